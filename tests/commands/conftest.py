"""The bot rig fixtures (twin + real core on the shared OpenCode + real KimakiBot) for command tests."""

from tests.bot.conftest import bot_rig, make_bot_rig

__all__ = ["bot_rig", "make_bot_rig"]
