"""Catch-up after downtime: at a fresh gateway session (a start, or a session that could not resume,
where Discord does not replay what was missed) read each linked channel's and conversation thread's
(active, or archived within the catch-up window) messages newer than its watermark and hand them to
the ingress, in order, before any live message.

Bounded by `discord.catch_up_messages` per channel (the newest ones) and `discord.catch_up_hours`.
A channel gets its watermark when it is linked (a message sent before the bot next connects is
answered then); a channel or thread still without one (linked by an older kimaki) starts at the
session's READY; a thread the ingress starts gets one at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from kimaki_tui.bot.retry import retrying

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

Take = Callable[[discord.Message], Coroutine[Any, Any, None]]


class CatchUp:
    """`gate` is closed from a fresh READY until the missed messages are queued (live ones wait)."""

    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot
        self.gate = asyncio.Event()
        self.gate.set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._session_start = discord.utils.time_snowflake(datetime.now(UTC))

    def session_started(self) -> None:
        """A fresh gateway session (READY): messages of the gap must come first."""
        self.gate.clear()
        # Messages from now on arrive live; a channel never read starts here.
        self._session_start = discord.utils.time_snowflake(datetime.now(UTC))

    def sent_before_session(self, message: discord.Message) -> bool:
        """Sent before this session began: it waited for kimaki (one sent since, read with the missed
        ones, came in time; by this machine's clock, so near the start this only words a notice)."""
        return message.id < self._session_start

    async def run(self, take: Take) -> int:
        """Queue the missed messages (`take` handles one, late), then open the gate; returns how many."""
        try:
            try:
                missed = await self._missed()
            except Exception:
                if self.bot.is_closed():
                    return 0  # the client is going away mid-read: the next start reads again
                raise
            for message in missed:
                # In order: each task reaches its thread's arrival queue before the next starts.
                task = asyncio.create_task(take(message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                await asyncio.sleep(0)
            if missed:
                log.info("catching up on %d message(s) sent while kimaki was offline", len(missed))
            return len(missed)
        finally:
            self.gate.set()

    async def _missed(self) -> list[discord.Message]:
        options = self.bot.settings.discord
        if options.catch_up_messages == 0:
            return []
        oldest = datetime.now(UTC) - timedelta(hours=options.catch_up_hours)
        missed: list[discord.Message] = []
        for channel in await self._channels():
            if self.bot.is_closed():
                return []
            try:
                missed += await self._missed_in(channel, options.catch_up_messages, oldest)
            except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
                # Its watermark stays: the next fresh session reads it again.
                log.warning("catch-up: could not read #%s: %s", channel.name, exc)
        return missed

    async def _channels(self) -> list[discord.TextChannel | discord.Thread]:
        """The linked channels this bot sees in servers it serves, and their active threads that
        are conversations (a server waiting for approval is read by nobody: the gateway's gate
        drops its live messages, and the catch-up must not bring them in another way)."""
        core = self.bot.core
        linked = [self.bot.get_channel(int(link.channel_id)) for link in core.projects.links()]
        channels: list[discord.TextChannel | discord.Thread] = [
            c for c in linked if isinstance(c, discord.TextChannel) and core.guilds.allowed(str(c.guild.id))
        ]
        for guild in {c.guild for c in channels}:
            try:
                threads = await retrying(guild.active_threads, f"listing the threads of {guild.name}")
            except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
                log.warning("catch-up: could not list the threads of %s: %s", guild.name, exc)
                threads = list(guild.threads)
            channels += [t for t in threads if self._ours(t)]
        since = datetime.now(UTC) - timedelta(hours=self.bot.settings.discord.catch_up_hours)
        for channel in [c for c in channels if isinstance(c, discord.TextChannel)]:
            channels += await self._archived(channel, since)
        return channels

    async def _archived(self, channel: discord.TextChannel, since: datetime) -> list[discord.Thread]:
        """Conversation threads archived since `since`: a message may have come in before Discord
        archived its thread (a day without activity while kimaki was down, or a moderator)."""

        async def newest_first() -> list[discord.Thread]:
            found: list[discord.Thread] = []
            async for thread in channel.archived_threads(limit=None):
                if thread.archive_timestamp < since:
                    break
                found.append(thread)
            return found

        try:
            threads = await retrying(newest_first, f"listing the archived threads of #{channel.name}")
        except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            log.warning("catch-up: could not list the archived threads of #%s: %s", channel.name, exc)
            return []
        return [t for t in threads if self._ours(t)]

    def _ours(self, thread: discord.Thread) -> bool:
        if self.bot.core.conversations.get(str(thread.id)) is not None:
            return True
        me = self.bot.user
        linked = thread.parent_id is not None and self.bot.core.projects.directory_of(str(thread.parent_id))
        return me is not None and thread.owner_id == me.id and bool(linked)

    async def _missed_in(
        self, channel: discord.TextChannel | discord.Thread, limit: int, oldest: datetime
    ) -> list[discord.Message]:
        handled = self.bot.core.handled
        after = handled.watermark(str(channel.id))
        if after is None:
            # Never read (a channel or thread from before watermarks): nothing to catch up on. A
            # channel gets its watermark when linked, a thread kimaki starts at once (the ingress).
            handled.start_from(str(channel.id), self._session_start - 1)
            return []
        newest_first = await retrying(lambda: _history(channel, limit), f"reading #{channel.name}")
        missed = [m for m in reversed(newest_first) if m.id > after and m.created_at >= oldest]
        if len(missed) == len(newest_first) == limit:
            log.warning("catch-up: more than %d messages missed in #%s; the older ones are skipped",
                        limit, channel.name)  # fmt: skip
        for message in missed:
            await _with_member(message)
        return missed


async def _history(channel: discord.TextChannel | discord.Thread, limit: int) -> list[discord.Message]:
    return [m async for m in channel.history(limit=limit)]


async def _with_member(message: discord.Message) -> None:
    """Messages read from history carry the author as a user, without the server roles access needs."""
    guild = message.guild
    if guild is None or isinstance(message.author, discord.Member):
        return
    member = guild.get_member(message.author.id)
    if member is None:
        try:
            member = await guild.fetch_member(message.author.id)
        except discord.HTTPException:
            return  # left the server: the access rules refuse the message
    message.author = member
