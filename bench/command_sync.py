"""Slash command registration on a restart: how many requests the bot makes for a guild's commands
when they did not change (the goal: one GET, no PUT), with 100 commands in the tree.

The real KimakiBot (discord.py) runs against the Discord twin with a core on an empty database; no
OpenCode is needed: with no project linked there are no OpenCode workflows to ask it for. Filler
commands (`bench-N`) bring the tree to Discord's cap of 100. The bot starts once (the commands
are sent), stops, and starts again.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from _common import ROOT, result

sys.path.insert(0, str(ROOT))

import discord

from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.service import Core
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.root.offline import open_secrets
from kimaki_tui.settings import DiscordSettings, Settings
from kimaki_tui.store.repo import Store
from kimaki_tui.testing.discord_twin import DiscordTwin
from tests.bot.rig import TestBot

TOKEN = "bench-command-sync-token"
CAP = 100


class FullTreeBot(TestBot):
    """KimakiBot with filler commands added before it publishes its tree (to reach the cap)."""

    async def sync_commands(self, guild: discord.abc.Snowflake) -> bool:
        for index in range(CAP - len(self.tree.get_commands())):
            command = discord.app_commands.Command(
                name=f"bench-{index}", description=f"Filler command {index}", callback=_noop
            )
            self.tree.add_command(command)
        return await super().sync_commands(guild)


async def _noop(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("ok", ephemeral=True)


async def run_bot(twin: DiscordTwin, core: Core, settings: Settings) -> None:
    bot = FullTreeBot(core, settings=settings, secrets=open_secrets(settings), app_id=str(twin.app_id))
    task = asyncio.create_task(bot.start(TOKEN))
    await asyncio.create_task(bot.wait_until_ready())  # runs once start() has logged in
    guild = next(iter(twin.world.guilds.values()))
    await twin.wait_for_commands(guild, timeout=20)
    await twin.wait_until(lambda: len(twin.commands(guild)) >= CAP, 20, "all commands")
    await bot.close()
    await asyncio.gather(task, return_exceptions=True)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        discord_settings = DiscordSettings(guild_ready_timeout=0.05)
        settings = Settings(data_dir=root / "data", projects_dir=root, discord=discord_settings)
        store = Store.open(root / "bench.sqlite")
        async with OpenCodeClient("http://127.0.0.1:9") as client:
            core = Core(client=client, store=store, bus=EventBus(), wait_stream=_nothing, options=None)
            core.start()
            async with DiscordTwin(bot_token=TOKEN, bot_name="Kimaki") as twin, _patched(twin):
                owner = twin.add_user("owner")
                twin.set_application_owner(owner)
                guild = twin.add_guild("Bench", owner=owner)
                path = f"/applications/{twin.app_id}/guilds/{guild.id}/commands"
                await run_bot(twin, core, settings)
                first = [r.method for r in twin.requests if r.path.endswith(path)]
                mark = len(twin.requests)
                await run_bot(twin, core, settings)
                again = [r.method for r in twin.requests[mark:] if r.path.endswith(path)]
                registered = len(twin.commands(guild))
            await core.close()
        store.close()
    print(f"first start: {first}; restart: {again}; {registered} commands registered")
    result("command_sync_restart_gets", again.count("GET"), "requests", "1")
    result("command_sync_restart_puts", again.count("PUT"), "requests", "0")
    result("command_sync_registered", registered, "commands", str(CAP))


async def _nothing() -> None:
    return None


class _patched:
    def __init__(self, twin: DiscordTwin) -> None:
        self._cm = twin.patch_discord()

    async def __aenter__(self) -> None:
        self._cm.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self._cm.__exit__(None, None, None)


if __name__ == "__main__":
    asyncio.run(main())
