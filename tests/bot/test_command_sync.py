"""Publishing slash commands to a guild: the first start sends them (one PUT); a restart with the
same commands only reads them (one GET, no PUT); a guild whose commands drifted gets them again."""

from __future__ import annotations

import pytest

from kimaki_tui.bot.command_sync import canonical
from kimaki_tui.testing.discord_twin import Guild
from tests.bot.rig import BotRig

pytestmark = pytest.mark.opencode


def _command_requests(rig: BotRig, guild: Guild, since: int) -> list[str]:
    path = f"/applications/{rig.twin.app_id}/guilds/{guild.id}/commands"
    return [r.method for r in rig.twin.requests[since:] if r.path.endswith(path)]


async def test_a_restart_with_the_same_commands_reads_them_and_sends_nothing(bot_rig: BotRig) -> None:
    guild = bot_rig.guild
    first = await bot_rig.twin.wait_for_commands(guild)
    assert "abort" in {c.name for c in first} and "run-shell-command" in {c.name for c in first}
    before = len(bot_rig.twin.requests)
    await bot_rig.restart_bot()
    await bot_rig.twin.wait_until(
        lambda: _command_requests(bot_rig, guild, before), 10, "the restarted bot to read its commands"
    )
    await bot_rig.settle()
    assert _command_requests(bot_rig, guild, before) == ["GET"]
    assert [c.id for c in bot_rig.twin.commands(guild)] == [c.id for c in first]


async def test_a_guild_whose_commands_drifted_gets_them_again(bot_rig: BotRig) -> None:
    guild = bot_rig.guild
    first = await bot_rig.twin.wait_for_commands(guild)
    bot_rig.twin.world.commands[guild.id] = [c for c in first if c.name != "abort"]
    before = len(bot_rig.twin.requests)
    await bot_rig.restart_bot()
    await bot_rig.twin.wait_until(
        lambda: "PUT" in _command_requests(bot_rig, guild, before), 10, "the commands to be sent again"
    )
    assert _command_requests(bot_rig, guild, before) == ["GET", "PUT"]
    assert "abort" in {c.name for c in bot_rig.twin.commands(guild)}


def test_the_comparison_ignores_what_discord_adds_and_defaults_it_omits() -> None:
    sent = {"name": "queue", "type": 1, "description": "Queue", "options": [
        {"type": 3, "name": "message", "description": "m", "required": False, "min_value": 0}
    ], "nsfw": False}
    stored = {"id": "1", "version": "2", "application_id": "3", "guild_id": "4", **sent, "options": [
        {"type": 3, "name": "message", "description": "m", "min_value": 0}
    ]}
    assert canonical(sent) == canonical(stored)
    assert canonical(sent) != canonical({**stored, "description": "Queue it"})
