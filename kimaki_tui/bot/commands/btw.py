"""Side questions: `/btw prompt:` and a thread message ending in `. btw` fork the whole session
(no history replayed) into a new `btw: …` thread that answers the question there. The main thread's
session, its running turn and its queue are left as they are.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.access import display_name
from kimaki_tui.bot.commands.common import enter_session_thread
from kimaki_tui.bot.threads import thread_name
from kimaki_tui.core.api import HistoryError
from kimaki_tui.core.prompts import PromptInput
from kimaki_tui.core.routing import side_question
from kimaki_tui.opencode.errors import OpenCodeError

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

QUIET = discord.AllowedMentions.none()
BTW_PREFIX = "btw: "


def asked_text(thread: discord.Thread) -> str:
    return f"💬 Side question asked in {thread.mention} — this thread goes on undisturbed."


async def ask_aside(
    bot: KimakiBot, parent: discord.Thread, question: str, user: discord.User | discord.Member
) -> discord.Thread:
    """Fork the parent thread's session into a new `btw:` thread and ask `question` there.
    Raises HistoryError (no session yet), OpenCodeError or discord.HTTPException."""
    channel = parent.parent
    if not isinstance(channel, discord.TextChannel):
        raise HistoryError("A side question needs a thread in a project channel.")
    plan = await bot.core.history.fork_aside(str(parent.id))
    thread = await channel.create_thread(
        name=thread_name(BTW_PREFIX + question),
        type=discord.ChannelType.public_thread,
        auto_archive_duration=1440,
    )
    await thread.add_user(user)
    await thread.send(
        f"**btw** — a side question from {parent.mention}, answered in a copy of its session "
        f"(`{plan.session_id}`); the main thread is not disturbed.",
        allowed_mentions=QUIET,
    )
    thread_id = str(thread.id)
    bot.core.resume.bind(thread_id, str(channel.id), plan, origin="fork")
    prompt = PromptInput(
        side_question(question, _parent_session(bot, parent)),
        author_id=str(user.id),
        author_name=display_name(user),
        origin="discord",
    )
    await bot.core.conversations.submit(thread_id, prompt)
    return thread


def _parent_session(bot: KimakiBot, parent: discord.Thread) -> str:
    view = bot.core.conversations.get(str(parent.id))
    return (view.session_id if view is not None else None) or "?"


class BtwCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(name="btw", description="Ask a side question in a fork of this session")
    @app_commands.describe(prompt="The side question")
    @app_commands.guild_only()
    async def btw(self, interaction: discord.Interaction, prompt: app_commands.Range[str, 1, 6000]) -> None:
        entered = await enter_session_thread(interaction, need_session=True)
        if entered is None:
            return
        bot, _view = entered
        parent = interaction.channel
        assert isinstance(parent, discord.Thread)  # enter_session_thread checked it
        await interaction.response.defer(thinking=True)
        try:
            thread = await ask_aside(bot, parent, prompt, interaction.user)
        except (HistoryError, OpenCodeError, discord.HTTPException) as exc:
            log.warning("btw in thread %s failed: %s", parent.id, exc)
            await interaction.edit_original_response(content=f"Could not ask the side question: {exc}")
            return
        await interaction.edit_original_response(content=asked_text(thread), allowed_mentions=QUIET)


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(BtwCog(bot))
