"""/run-shell-command: the `!` shortcut as a slash command — run a shell command in this thread's
directory (through OpenCode, without the model) and post what it printed, for everyone to see."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.commands.common import enter_session_thread, say
from kimaki_tui.bot.errors import explain
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.presentation.shell import shell_report

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot


class ShellCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="run-shell-command", description="Run a shell command in this thread's folder (60 s at most)"
    )
    @app_commands.describe(command="The command, as you would type it in a terminal")
    @app_commands.guild_only()
    async def run_shell_command(
        self, interaction: discord.Interaction, command: app_commands.Range[str, 1, 1000]
    ) -> None:
        entered = await enter_session_thread(interaction)
        if entered is None:
            return
        bot, view = entered
        await interaction.response.defer(thinking=True)  # the command may take up to a minute
        try:
            result = await bot.core.conversations.shell(view.thread_id, command)
        except OpenCodeError as exc:
            await say(interaction, explain(exc) or str(exc))
            return
        await say(interaction, shell_report(command, result), ephemeral=False)


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(ShellCog(bot))
