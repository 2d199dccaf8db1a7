"""Activity in a thread before its message: Discord's typing signal (TYPING_START) from someone who
may use the bot, in a session thread, is reported to the core, which resumes the thread's paused
sandbox so the message finds it running (core.sandboxes.activity decides; this only reports)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from kimaki_tui.bot.access import check, in_scope

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot


class ActivityCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_typing(
        self, channel: discord.abc.Messageable, user: discord.User | discord.Member, when: dt.datetime
    ) -> None:
        if not isinstance(channel, discord.Thread):
            return
        thread_id = str(channel.id)
        core = self.bot.core
        if core.conversations.get(thread_id) is None:
            return  # not a session thread of this kimaki
        rules = self.bot.settings.discord
        # The same people whose message would be answered: nobody else can wake a sandbox (the
        # bot's own typing pulses included).
        if in_scope(channel, rules) and check(user, self.bot.user, rules).allowed:
            core.sandboxes.activity(thread_id)
