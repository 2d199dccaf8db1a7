"""/context-usage, /session-id and /last-sessions: what a session has used, which OpenCode session a
thread is, and where the recent conversations are."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.commands.common import enter, enter_session_thread, say
from kimaki_tui.core.api import ConversationView, SessionUsage
from kimaki_tui.presentation.render import format_duration

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

NO_ANSWER_YET_TEXT = "No answer in this session yet: nothing used so far."
NO_SESSIONS_TEXT = "No sessions yet: send a message in a project channel to start one."


def usage_text(usage: SessionUsage) -> str:
    if usage.context_limit:
        context = f"{usage.context_tokens:,} of {usage.context_limit:,} tokens ({usage.context_percent}%)"
    else:
        context = f"{usage.context_tokens:,} tokens (the model's limit is unknown)"
    return "\n".join(
        [
            f"**Context**: {context}",
            f"**Session total**: {usage.tokens_total:,} tokens over {usage.answers} answer(s), "
            f"${usage.cost:.4f}",
            f"**Model**: {usage.model}",
        ]
    )


def session_text(view: ConversationView) -> str:
    return (
        f"Session `{view.session_id}` in `{view.directory}`.\n"
        f"On this machine, `kimaki session read {view.session_id}` prints it as Markdown."
    )


def recent_text(views: list[ConversationView], now: float) -> str:
    lines = [
        f"<#{v.thread_id}> · {Path(v.directory).name} · {v.state} · "
        f"{format_duration(now - v.last_activity)} ago"
        for v in views
    ]
    return "\n".join(["**Recent sessions**", *lines])


class InsightCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(name="context-usage", description="Tokens, context and cost of this session")
    @app_commands.guild_only()
    async def context_usage(self, interaction: discord.Interaction) -> None:
        entered = await enter_session_thread(interaction, need_session=True)
        if entered is None:
            return
        bot, view = entered
        await interaction.response.defer(ephemeral=True, thinking=True)
        usage = await bot.core.insight.usage(view.thread_id)
        await say(interaction, NO_ANSWER_YET_TEXT if usage is None else usage_text(usage))

    @app_commands.command(name="session-id", description="This thread's OpenCode session id")
    @app_commands.guild_only()
    async def session_id(self, interaction: discord.Interaction) -> None:
        entered = await enter_session_thread(interaction, need_session=True)
        if entered is not None:
            await say(interaction, session_text(entered[1]))

    @app_commands.command(name="last-sessions", description="The most recent sessions, across projects")
    @app_commands.guild_only()
    async def last_sessions(self, interaction: discord.Interaction) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        views = entered[0].core.insight.recent(10)
        await say(interaction, recent_text(views, time.time()) if views else NO_SESSIONS_TEXT)


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(InsightCog(bot))
