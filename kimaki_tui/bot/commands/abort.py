"""/abort: stop the answer running in this thread's session (pending approvals are rejected too).
The reply is the thread's notice; an abort from another front end is announced by the output."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.access import display_name
from kimaki_tui.bot.commands.common import enter_session_thread, say

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

ABORTED_TEXT = "Aborted the current answer."
IDLE_TEXT = "Nothing is running."


class AbortCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(name="abort", description="Stop the answer running in this thread")
    @app_commands.guild_only()
    async def abort(self, interaction: discord.Interaction) -> None:
        entered = await enter_session_thread(interaction)
        if entered is None:
            return
        bot, view = entered
        if view.session_id is None:
            await say(interaction, IDLE_TEXT)
            return
        # Waiting for OpenCode to confirm can take longer than the 3 s Discord gives an answer.
        await interaction.response.defer(thinking=True)
        who = display_name(interaction.user)
        stopped = await bot.core.conversations.abort(view.thread_id, by=who, origin="discord")
        await say(interaction, ABORTED_TEXT if stopped else IDLE_TEXT, ephemeral=False)


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(AbortCog(bot))
