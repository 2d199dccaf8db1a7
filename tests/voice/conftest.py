"""The bot rig fixtures (tests/bot/conftest.py) for the voice tests."""

from tests.bot.conftest import bot_rig, make_bot_rig

__all__ = ["bot_rig", "make_bot_rig"]
