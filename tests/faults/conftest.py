"""The fault suite uses the bot's fixtures: the real discord.py client against the twin, real
OpenCode with the scripted model."""

from tests.bot.conftest import bot_rig, make_bot_rig

__all__ = ["bot_rig", "make_bot_rig"]
