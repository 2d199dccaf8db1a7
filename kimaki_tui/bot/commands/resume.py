"""/resume session: reopen an existing OpenCode session of the project in a new thread, replaying
its last answers so the conversation can go on where it stopped."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.commands.common import bot_of, enter, locate, permitted, say
from kimaki_tui.bot.threads import thread_name
from kimaki_tui.core.split import DISCORD_LIMIT, split_message
from kimaki_tui.opencode.errors import OpenCodeError, SessionNotFound
from kimaki_tui.opencode.models import Message
from kimaki_tui.opencode.schema import SessionInfo

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

QUIET = discord.AllowedMentions.none()
REPLAY_PARTS = 10
CHOICES_MAX = 25
CHOICE_LEN = 100
RESUMED_TEXT = "Session resumed — send a message to continue."


def assistant_texts(messages: Sequence[Message], limit: int = REPLAY_PARTS) -> list[tuple[str, str]]:
    """(part id, text) of the last `limit` visible text parts the assistant wrote, oldest first."""
    found = [
        (part.id, part.text.strip())
        for message in messages
        if message.info.is_assistant
        for part in message.text_parts()
        if part.typed and part.text.strip()
    ]
    return found[-limit:] if limit > 0 else []


def batch_texts(parts: Sequence[tuple[str, str]], limit: int = DISCORD_LIMIT) -> list[tuple[str, list[str]]]:
    """Pack the texts into as few messages of ≤ `limit` chars as keeps their order; each message
    comes with the ids of the parts it shows (a long part spans several messages)."""
    batches: list[tuple[str, list[str]]] = []
    for part_id, text in parts:
        for chunk in split_message(text, limit):
            if batches and len(batches[-1][0]) + 2 + len(chunk) <= limit:
                body, ids = batches[-1]
                batches[-1] = (f"{body}\n\n{chunk}", ids if part_id in ids else [*ids, part_id])
            else:
                batches.append((chunk, [part_id]))
    return batches


def choice_label(info: SessionInfo) -> str:
    label = " ".join((info.title or info.id).split())
    return label if len(label) <= CHOICE_LEN else label[: CHOICE_LEN - 1] + "…"


class ResumeCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="resume", description="Reopen an existing OpenCode session of this project in a new thread"
    )
    @app_commands.describe(session="The session to resume (start typing its title)")
    @app_commands.guild_only()
    async def resume(self, interaction: discord.Interaction, session: str) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        if place.thread is not None or place.channel is None:
            await say(interaction, "Use /resume in the project channel, not inside a thread.")
            return
        session_id = session.strip()
        bound = bot.core.store.thread_for_session(session_id)
        if bound is not None:
            await say(interaction, f"That session is already open in <#{bound.thread_id}>.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            info = await bot.core.client.get_session(session_id, place.directory)
        except SessionNotFound:
            await say(interaction, f"There is no OpenCode session `{session_id[:80]}` in this project.")
            return
        messages = await bot.core.client.messages(info.id, place.directory)
        thread = await place.channel.create_thread(
            name=thread_name(f"Resume: {info.title or info.id}"),
            type=discord.ChannelType.public_thread,
            auto_archive_duration=1440,
        )
        await thread.add_user(interaction.user)
        await self._replay(bot, thread, info, assistant_texts(messages))
        bot.core.open_thread(str(thread.id), place.channel_id, place.directory, info.id, source="resume")
        await thread.send(RESUMED_TEXT, allowed_mentions=QUIET)
        await say(interaction, f"Resumed in {thread.mention}.")

    async def _replay(
        self, bot: KimakiBot, thread: discord.Thread, info: SessionInfo, parts: list[tuple[str, str]]
    ) -> None:
        title = discord.utils.escape_markdown(info.title or "untitled")[:200]
        shown = f"its last {len(parts)} answer part(s):" if parts else "no earlier answers to show."
        await thread.send(f"**Resuming** {title} (`{info.id}`) — {shown}", allowed_mentions=QUIET)
        posted: dict[str, list[str]] = {}
        for text, part_ids in batch_texts(parts):
            message = await thread.send(text, allowed_mentions=QUIET, suppress_embeds=True, silent=True)
            for part_id in part_ids:
                posted.setdefault(part_id, []).append(str(message.id))
        for part_id, message_ids in posted.items():
            # Recorded like live output, so a part is never posted twice in this thread.
            bot.core.store.mark_posted(part_id, str(thread.id), info.id, message_ids)

    @resume.autocomplete("session")
    async def session_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        bot = bot_of(interaction)
        place = locate(bot, interaction.channel)
        if place is None or permitted(bot, interaction.user) is not None:
            return []
        try:
            sessions = await bot.core.client.list_sessions(place.directory)
        except OpenCodeError as exc:
            log.warning("listing sessions of %s for /resume failed: %s", place.directory, exc)
            return []
        bound = {row.session_id for row in bot.core.store.list_threads()}
        typed = current.strip().lower()
        choices = []
        for info in sorted(sessions, key=lambda s: s.updated, reverse=True):
            if info.id in bound or (
                typed and typed not in info.title.lower() and typed not in info.id.lower()
            ):
                continue
            choices.append(app_commands.Choice(name=choice_label(info), value=info.id))
            if len(choices) == CHOICES_MAX:
                break
        return choices


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(ResumeCog(bot))
