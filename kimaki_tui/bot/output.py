"""Core events → Discord: one ordered send queue (a worker task) per thread, so a thread's posts
appear in event order; finished parts are posted once (recorded by the core, also across
restarts); typing shows while the session works; approval prompts get persistent components and
are edited when answered from any front end. Every event names its thread, so nothing is looked up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from kimaki_tui.bot.threads import TypingPulse
from kimaki_tui.bot.views import permission_view, question_view
from kimaki_tui.core.events import (
    DomainEvent,
    PartCompleted,
    PermissionAskedEvent,
    PermissionResolved,
    PromptDispatched,
    QuestionAskedEvent,
    QuestionResolved,
    QueueChanged,
    StatusChanged,
    TextDelta,
    TitleChanged,
    ToolStarted,
    TurnAborted,
    TurnFinished,
)
from kimaki_tui.presentation.notices import abort_notice, dispatched_line, question_outcome
from kimaki_tui.presentation.render import STARTED_TOOLS, render_event, render_permission_outcome

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

QUIET = discord.AllowedMentions.none()
# Live-view events (token deltas, queue listings, titles): nothing to post for them. Tool starts
# are posted only for the tools announced when they start (subagent tasks).
_NOT_POSTED = (TextDelta, QueueChanged, TitleChanged)


@dataclass(frozen=True, slots=True)
class Note:
    """A short message from the bot itself (queue notices, attachment problems)."""

    text: str


Item = DomainEvent | Note


class OutputRouter:
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot
        self._threads: dict[str, ThreadOutput] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._closed = False

    def start(self) -> None:
        self._unsubscribe = self.bot.core.subscribe(self._on_event)

    def _on_event(self, event: object) -> None:
        if not isinstance(event, DomainEvent) or isinstance(event, _NOT_POSTED) or not event.thread_id:
            return
        if isinstance(event, ToolStarted) and event.tool not in STARTED_TOOLS:
            return
        self._thread(event.thread_id).put(event)

    def say(self, thread_id: str, text: str) -> None:
        """Post a bot notice in the thread, after whatever is already queued there."""
        self._thread(thread_id).put(Note(text))

    def _thread(self, thread_id: str) -> ThreadOutput | _Closed:
        if self._closed:
            return _CLOSED  # the Discord client is going away; a new bot posts from now on
        output = self._threads.get(thread_id)
        if output is None:
            output = self._threads[thread_id] = ThreadOutput(self.bot, thread_id)
        return output

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queued post is sent (or `timeout`)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                for output in list(self._threads.values()):
                    await output.queue.join()

    async def close(self, timeout: float = 5.0) -> None:
        """Stop listening, let queued posts go out (bounded), then stop the workers."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._closed = True
        await self.drain(timeout)
        for output in self._threads.values():
            await output.close()
        self._threads.clear()


class _Closed:
    def put(self, item: Item) -> None:
        log.debug("bot closing: not posting %s", type(item).__name__)


_CLOSED = _Closed()


class ThreadOutput:
    def __init__(self, bot: KimakiBot, thread_id: str) -> None:
        self.bot = bot
        self.thread_id = thread_id
        self.channel = bot.get_partial_messageable(int(thread_id), type=discord.ChannelType.public_thread)
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        self.typing = TypingPulse(self.channel, bot.settings.discord.typing_interval)
        self._worker = asyncio.create_task(self._run(), name=f"kimaki-output-{thread_id}")

    def put(self, item: Item) -> None:
        self.queue.put_nowait(item)

    async def close(self) -> None:
        self._worker.cancel()
        await asyncio.wait([self._worker], timeout=5.0)
        await self.typing.stop()

    async def _run(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                await self._handle(item)
            except discord.HTTPException as exc:
                log.warning("posting %s in thread %s failed: %s", type(item).__name__, self.thread_id, exc)
            except Exception:  # the thread's post worker must outlive one bad item
                log.exception("could not post %s in thread %s", type(item).__name__, self.thread_id)
            finally:
                self.queue.task_done()

    async def _handle(self, item: Item) -> None:
        if isinstance(item, Note):
            await self._send(item.text, notify=False)
        elif isinstance(item, StatusChanged):
            await self._status(item)
        elif isinstance(item, PartCompleted | ToolStarted):
            await self._part(item)
        elif isinstance(item, PermissionAskedEvent):
            await self._permission_asked(item)
        elif isinstance(item, PermissionResolved):
            await self._permission_resolved(item)
        elif isinstance(item, QuestionAskedEvent):
            await self._question_asked(item)
        elif isinstance(item, QuestionResolved):
            await self._question_resolved(item)
        elif isinstance(item, PromptDispatched):
            # Discord users already see their own message; queued ones and prompts typed elsewhere
            # (the control center, the CLI) are shown when they start.
            if item.from_queue or item.origin != "discord":
                await self._send(dispatched_line(item), notify=False)
        elif isinstance(item, TurnAborted):
            # /abort answers in the thread itself; an abort from elsewhere is announced here.
            if item.origin != "discord":
                await self._send(abort_notice(item), notify=False)
        elif isinstance(item, TurnFinished):
            await self.typing.stop()
            await self._post_rendered(item, notify=True)
        else:
            await self._post_rendered(item, notify=True)

    async def _status(self, event: StatusChanged) -> None:
        if event.state in ("busy", "retry"):
            if not self._waiting_for_user():
                self.typing.start()
        else:
            await self.typing.stop()

    def _waiting_for_user(self) -> bool:
        view = self.bot.core.conversations.get(self.thread_id)
        return view is not None and view.state == "waiting"

    async def _part(self, part: PartCompleted | ToolStarted) -> None:
        """Post a part once, even across restarts (a started task's end is not posted again)."""
        posts = self.bot.core.posts
        if posts.is_posted(part.part_id):
            return
        texts = render_event(part, verbosity=self.bot.settings.discord.verbosity)
        ids = [str((await self._send(text, notify=False)).id) for text in texts]
        posts.mark_posted(part.part_id, self.thread_id, part.session_id, ids)

    async def _post_rendered(self, event: DomainEvent, *, notify: bool) -> None:
        for text in render_event(event, verbosity=self.bot.settings.discord.verbosity):
            await self._send(text, notify=notify)

    async def _send(self, text: str, *, notify: bool, view: discord.ui.View | None = None) -> discord.Message:
        channel, silent = self.channel, not notify
        if view is None:
            message = await channel.send(text, allowed_mentions=QUIET, suppress_embeds=True, silent=silent)
        else:
            message = await channel.send(
                text, view=view, allowed_mentions=QUIET, suppress_embeds=True, silent=silent
            )
        self.typing.poke()
        return message

    # ---- approvals ---------------------------------------------------------------------------
    async def _permission_asked(self, event: PermissionAskedEvent) -> None:
        await self.typing.stop()
        request = event.request
        [text] = render_event(event)
        message = await self._send(text, notify=True, view=permission_view(request.request_id))
        self.bot.core.approvals.attach_message(request.request_id, self.thread_id, str(message.id))

    async def _permission_resolved(self, event: PermissionResolved) -> None:
        request = event.request
        minutes = max(1, round((time.time() - request.asked_at) / 60))
        text = render_permission_outcome(
            request, event.reply, event.by, event.expired, timeout_minutes=minutes
        )
        await self._edit_prompt(request.request_id, text)
        self._resume_typing()

    async def _question_asked(self, event: QuestionAskedEvent) -> None:
        await self.typing.stop()
        texts = render_event(event)
        for text in texts[:-1]:
            await self._send(text, notify=True)
        message = await self._send(texts[-1], notify=True, view=question_view(event.request))
        self.bot.core.approvals.attach_message(event.request.request_id, self.thread_id, str(message.id))

    async def _question_resolved(self, event: QuestionResolved) -> None:
        text = question_outcome(event.request, event.answers, event.by, event.expired)
        await self._edit_prompt(event.request.request_id, text)
        self._resume_typing()

    async def _edit_prompt(self, request_id: str, text: str) -> None:
        shown = self.bot.core.approvals.prompt_message(request_id)
        if shown is None:
            return
        message = self.channel.get_partial_message(int(shown.external_message_id))
        await message.edit(content=text, view=None, allowed_mentions=QUIET)

    def _resume_typing(self) -> None:
        view = self.bot.core.conversations.get(self.thread_id)
        if view is not None and view.busy and view.state != "waiting":
            self.typing.start()
