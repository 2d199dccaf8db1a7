"""The session history commands: /fork (branch a session off before one of its user messages, in a
new thread), /undo and /redo (step its history and the agent's file changes back and forth),
/compact (summarize it with its current model) and /share (its public link).

The fork menu is persistent: custom_id `kimaki:fork:<session id>`, values are message ids.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.access import display_name
from kimaki_tui.bot.commands.common import Place, enter_session_thread, say
from kimaki_tui.bot.commands.picker import Choice, clip, guarded, one_item_view, select
from kimaki_tui.bot.threads import thread_name
from kimaki_tui.core.api import ConversationView, HistoryError, ResumePlan, RevertResult

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)
T = TypeVar("T")

QUIET = discord.AllowedMentions.none()
DIFF_MAX = 1500
REPLAY_MAX = 1500
NOTHING_TO_UNDO = "Nothing to undo."
NOTHING_TO_REDO = "Nothing to redo."
STALE_MENU_TEXT = "This menu is out of date; run /fork again."


def diff_block(diff: str, limit: int = DIFF_MAX) -> str:
    """The revert's diff as a ```diff block, cut to `limit` characters."""
    if not diff.strip():
        return ""
    body = diff.strip().replace("```", "`\u200b``")
    if len(body) > limit:
        body = body[: limit - 1].rstrip() + "\n…"
    return f"\n```diff\n{body}\n```"


def revert_text(verb: str, who: str, result: RevertResult) -> str:
    if result.finished:
        return f"↪️ **Redone** by {who} — the session is back to its latest state."
    return f"{verb} by {who}.{diff_block(result.diff)}"


class ForkSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"kimaki:fork:(?P<session>ses\w+)"):
    def __init__(self, menu: discord.ui.Select[Any], session_id: str) -> None:
        super().__init__(menu)
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ForkSelect:
        return cls(cast("discord.ui.Select[Any]", item), match["session"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, lambda bot, place: self._picked(interaction, bot, place))

    async def _picked(self, interaction: discord.Interaction, bot: KimakiBot, place: Place) -> None:
        view = bot.core.conversations.get(place.thread_id) if place.thread_id else None
        if view is None or view.session_id != self.session_id or place.channel is None:
            await interaction.response.edit_message(content=STALE_MENU_TEXT, view=None)
            return
        await interaction.response.defer()
        message_id = self.item.values[0]
        plan = await bot.core.history.fork(view.thread_id, message_id)
        info = plan.info
        thread = await place.channel.create_thread(
            name=thread_name(f"Fork: {info.title or view.title or info.id}"),
            type=discord.ChannelType.public_thread,
            auto_archive_duration=1440,
        )
        await thread.add_user(interaction.user)
        await _introduce(bot, thread, plan, place)
        bot.core.resume.bind(str(thread.id), place.channel_id, plan, origin="fork")
        await interaction.edit_original_response(content=f"Forked into {thread.mention}.", view=None)


async def _introduce(bot: KimakiBot, thread: discord.Thread, plan: ResumePlan, origin: Place) -> None:
    """The fork thread's header and, briefly, the last answer it inherited."""
    header = (
        f"**Forked** from <#{origin.thread_id}> (`{plan.session_id}`) — send a message to go on from here."
    )
    await thread.send(header, allowed_mentions=QUIET)
    if plan.parts:
        last = plan.parts[-1]
        text = last.text
        shown = text if len(text) <= REPLAY_MAX else text[: REPLAY_MAX - 1].rstrip() + "…"
        message = await thread.send(shown, allowed_mentions=QUIET, suppress_embeds=True, silent=True)
        bot.core.posts.mark_posted(last.part_id, str(thread.id), plan.session_id, [str(message.id)])


class HistoryCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(name="fork", description="Branch this session off before one of its messages")
    @app_commands.guild_only()
    async def fork(self, interaction: discord.Interaction) -> None:
        entered = await enter_session_thread(interaction, need_session=True)
        if entered is None:
            return
        bot, view = entered
        await interaction.response.defer(ephemeral=True, thinking=True)
        turns = await bot.core.history.fork_choices(view.thread_id)
        if not turns:
            await say(interaction, "This session has no messages to fork from yet.")
            return
        note = "Fork with everything before this"
        choices = [Choice(clip(t.text), t.message_id, note) for t in reversed(turns)]
        assert view.session_id is not None
        menu = select(f"kimaki:fork:{view.session_id}", choices, 0, "Fork before which message?")
        await interaction.followup.send(
            "Pick a message: the fork keeps everything before it.",
            view=one_item_view(ForkSelect(menu, view.session_id)),
            ephemeral=True,
        )

    @app_commands.command(name="undo", description="Undo the last turn (its messages and file changes)")
    @app_commands.guild_only()
    async def undo(self, interaction: discord.Interaction) -> None:
        who = display_name(interaction.user)
        result = await _history_call(
            interaction, lambda bot, view: bot.core.history.undo(view.thread_id, by=who, origin="discord")
        )
        if result is not None:
            text = revert_text("↩️ **Undone**: the last turn and its file changes", who, result)
            await say(interaction, text if result.done else NOTHING_TO_UNDO, ephemeral=False)

    @app_commands.command(name="redo", description="Redo the turn /undo took back")
    @app_commands.guild_only()
    async def redo(self, interaction: discord.Interaction) -> None:
        who = display_name(interaction.user)
        result = await _history_call(interaction, lambda bot, view: bot.core.history.redo(view.thread_id))
        if result is not None:
            text = revert_text("↪️ **Redone**: one turn", who, result)
            await say(interaction, text if result.done else NOTHING_TO_REDO, ephemeral=False)

    @app_commands.command(name="compact", description="Summarize this session to free its context")
    @app_commands.guild_only()
    async def compact(self, interaction: discord.Interaction) -> None:
        model = await _history_call(interaction, lambda bot, view: bot.core.history.compact(view.thread_id))
        if model is not None:
            await say(interaction, f"📦 Session **compacted** (summarized with `{model}`).", ephemeral=False)

    @app_commands.command(name="share", description="Get a public link to this session")
    @app_commands.guild_only()
    async def share(self, interaction: discord.Interaction) -> None:
        url = await _history_call(interaction, lambda bot, view: bot.core.history.share(view.thread_id))
        if url is not None:
            await say(interaction, f"🔗 **Session shared:** {url}", ephemeral=False)


async def _history_call(
    interaction: discord.Interaction, call: Callable[[KimakiBot, ConversationView], Awaitable[T]]
) -> T | None:
    """Enter the session thread, defer, run one history action; a HistoryError is told to the user."""
    entered = await enter_session_thread(interaction, need_session=True)
    if entered is None:
        return None
    bot, view = entered
    await interaction.response.defer(thinking=True)
    try:
        return await call(bot, view)
    except HistoryError as exc:
        await say(interaction, str(exc), ephemeral=False)
        return None


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(HistoryCog(bot))
    bot.add_dynamic_items(ForkSelect)
