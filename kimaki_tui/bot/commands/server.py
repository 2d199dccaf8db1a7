"""/restart-opencode-server and /upgrade-and-restart: restart the OpenCode server (running answers
end as failed), or upgrade kimaki-tui the way it was installed and restart kimaki in place."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.commands.common import enter, say
from kimaki_tui.upgrade import Upgrader, UpgradeRefused

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

RESTARTED_TEXT = "🔄 OpenCode server restarted and healthy. Answers that were running were stopped."
NOT_RESTARTED_TEXT = "I could not restart myself; restart kimaki to use the new version."
OUTPUT_MAX = 1500


class ServerCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot
        # Replaceable (tests inject a runner and a restarter; nothing touches the network then).
        self.upgrader = Upgrader(lock_port=bot.settings.lock_port)

    @app_commands.command(
        name="restart-opencode-server", description="Restart the OpenCode server (running answers stop)"
    )
    @app_commands.guild_only()
    async def restart_opencode_server(self, interaction: discord.Interaction) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, _place = entered
        server = bot.core.server
        if not server.can_restart:
            await say(interaction, "This kimaki cannot restart its OpenCode server.")
            return
        await interaction.response.defer(thinking=True)
        log.info("restarting OpenCode for %s", interaction.user)
        await server.restart()
        await say(interaction, RESTARTED_TEXT, ephemeral=False)
        # Its agents, commands and skills may have changed with its configuration.
        await bot.guild_keeper.refresh_commands()

    @app_commands.command(
        name="upgrade-and-restart", description="Upgrade kimaki-tui as it was installed, then restart kimaki"
    )
    @app_commands.guild_only()
    async def upgrade_and_restart(self, interaction: discord.Interaction) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, _place = entered
        await interaction.response.defer(thinking=True)
        try:
            outcome = await self.upgrader.upgrade()
        except UpgradeRefused as exc:
            await say(interaction, str(exc), ephemeral=False)
            return
        if not outcome.ok:
            tail = outcome.output.strip()[-OUTPUT_MAX:]
            text = f"⚠️ The upgrade failed ({outcome.plan.description}):\n```\n{tail}\n```"
            await say(interaction, text, ephemeral=False)
            return
        if not outcome.changed:
            await say(interaction, f"Already on the latest version ({outcome.after}).", ephemeral=False)
            return
        text = f"⬆️ Upgraded kimaki-tui {outcome.before} → {outcome.after}; restarting…"
        await say(interaction, text, ephemeral=False)
        if not await self.upgrader.restart(bot.settings.data_dir):
            await say(interaction, NOT_RESTARTED_TEXT, ephemeral=False)


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(ServerCog(bot))
