"""Core events → Discord: each thread's events become rows of the core's durable outbox, in event
order, and the thread's sender (bot/delivery.py) posts them, retrying until Discord takes them;
finished parts are queued once (recorded by the core, also across restarts); typing shows while the
session works; approval prompts get persistent components and are edited when answered from any
front end. Every event names its thread, so nothing is looked up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from kimaki_tui.bot.delivery import ThreadSender
from kimaki_tui.bot.threads import TypingPulse
from kimaki_tui.bot.titles import ThreadTitles
from kimaki_tui.core.api import NewDelivery, until_stored, until_stored_async
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
from kimaki_tui.presentation.notices import (
    INTERRUPTED_NOTICE,
    abort_notice,
    dispatched_line,
    question_outcome,
)
from kimaki_tui.presentation.render import (
    STARTED_TOOLS,
    render_event,
    render_left_over_outcome,
    render_permission_outcome,
)
from kimaki_tui.settings.tree import Verbosity

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

# Live-view events (token deltas, queue listings, titles): nothing to post for them. Tool starts
# are posted only for the tools announced when they start (subagent tasks).
_NOT_POSTED = (TextDelta, QueueChanged, TitleChanged)


@dataclass(frozen=True, slots=True)
class Note:
    """A short message from the bot itself (queue notices, attachment problems). With a `key`, a
    later note with `edit` set and the same key rewrites it instead of posting a new message."""

    text: str
    key: str | None = None
    edit: bool = False


Item = DomainEvent | Note


class OutputRouter:
    # A thread's workers (its event queue and its sender) stop after this long with nothing to
    # do, so a bot up for weeks keeps no tasks for the thousands of threads it once posted in.
    release_after = 60.0

    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot
        self._threads: dict[str, ThreadOutput] = {}
        self.titles = ThreadTitles(bot)
        self._unsubscribe: Callable[[], None] | None = None
        self._closed = False

    async def start(self) -> None:
        """Listen to the core; send what a previous run left in the outbox, take the buttons off
        the prompts whose requests it left unanswered, and tell the threads whose turn it cut off.
        A locked database delays this (each write waits on its own), it does not lose it."""
        self._unsubscribe = self.bot.core.subscribe(self._on_event)
        self.bot.core.chat_delivery.listening()
        outbox = self.bot.core.outbox
        what = "the outbox left by the previous run"
        await until_stored(outbox.prune, what)
        for left in self.bot.core.approvals.take_left_over():
            text = render_left_over_outcome(left.request)
            edit = NewDelivery(text, action="edit_prompt", request_id=left.request.request_id)
            await until_stored(functools.partial(outbox.post, left.thread_id, [edit]), what)
        for thread_id in self.bot.core.turns.take_interrupted():
            notice = NewDelivery(INTERRUPTED_NOTICE)
            await until_stored(functools.partial(outbox.post, thread_id, [notice]), what)
        for thread_id in outbox.threads_waiting():
            output = self._thread(thread_id)
            if isinstance(output, ThreadOutput):
                output.sender.wake()

    def _on_event(self, event: object) -> None:
        if isinstance(event, TitleChanged) and event.thread_id and not self._closed:
            self.titles.changed(event.thread_id, event.title)
        if not isinstance(event, DomainEvent) or isinstance(event, _NOT_POSTED) or not event.thread_id:
            return
        if isinstance(event, ToolStarted) and event.tool not in STARTED_TOOLS:
            return
        self._thread(event.thread_id).put(event)

    def say(self, thread_id: str, text: str, key: str | None = None) -> None:
        """Post a bot notice in the thread, after whatever is already queued there; `key` lets
        `reword` change it later."""
        self._thread(thread_id).put(Note(text, key))

    def reword(self, thread_id: str, key: str, text: str) -> None:
        """Rewrite the notice posted with `key` (posted anew if it never was)."""
        self._thread(thread_id).put(Note(text, key, edit=True))

    def _thread(self, thread_id: str) -> ThreadOutput | _Closed:
        if self._closed:
            return _CLOSED  # the Discord client is going away; a new bot posts from now on
        output = self._threads.get(thread_id)
        if output is None:
            output = ThreadOutput(self.bot, thread_id, self.release_after, self._released)
            self._threads[thread_id] = output
        return output

    def _released(self, output: ThreadOutput) -> None:
        if self._threads.get(output.thread_id) is output:
            del self._threads[output.thread_id]

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queued post is sent (or `timeout`)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                for output in list(self._threads.values()):
                    await output.settled()

    async def close(self, timeout: float = 5.0) -> None:
        """Stop listening, let queued posts go out (bounded), then stop the workers."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self.bot.core.chat_delivery.stopped()
        self._closed = True
        await self.drain(timeout)
        await self.titles.close()
        for output in self._threads.values():
            await output.close()
        self._threads.clear()


class _Closed:
    def put(self, item: Item) -> None:
        log.debug("bot closing: not posting %s", type(item).__name__)


_CLOSED = _Closed()


class ThreadOutput:
    """Turns a thread's events into outbox rows (in event order) and keeps its typing pulse; the
    thread's ThreadSender delivers the rows."""

    def __init__(
        self,
        bot: KimakiBot,
        thread_id: str,
        release_after: float = 0.0,
        on_release: Callable[[ThreadOutput], None] = lambda output: None,
    ) -> None:
        self.bot = bot
        self.thread_id = thread_id
        self._release_after = release_after or None  # 0: never
        self._on_release = on_release
        self.channel = bot.get_partial_messageable(int(thread_id), type=discord.ChannelType.public_thread)
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        opened = functools.partial(bot.opening_threads.wait, thread_id)
        self.typing = TypingPulse(self.channel, bot.settings.discord.typing_interval, opened)
        self.sender = ThreadSender(bot, thread_id, self.channel, self.typing.poke)
        self._worker = asyncio.create_task(self._run(), name=f"kimaki-output-{thread_id}")

    def put(self, item: Item) -> None:
        self.queue.put_nowait(item)

    def _idle(self) -> bool:
        """Nothing queued, nothing being sent, no typing shown: the workers may stop."""
        return self.queue.empty() and self.sender.is_idle and not self.typing.active

    async def settled(self) -> None:
        await self.queue.join()
        await self.sender.idle()

    async def close(self) -> None:
        self._worker.cancel()
        await asyncio.wait([self._worker], timeout=5.0)
        await self.sender.close()
        await self.typing.stop()

    async def _run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self._release_after):
                    item = await self.queue.get()
            except TimeoutError:
                if self._idle():
                    self._on_release(self)  # from now on, a new ThreadOutput serves the thread
                    await self.sender.close()
                    return
                continue
            try:  # a locked database delays the item (retried), never drops it
                handle = functools.partial(self._handle, item)
                await until_stored_async(handle, f"a post in thread {self.thread_id}")
            except Exception:  # the thread's post worker must outlive one bad item
                log.exception("could not queue %s for thread %s", type(item).__name__, self.thread_id)
            finally:
                self.queue.task_done()

    async def _handle(self, item: Item) -> None:
        if isinstance(item, Note) and item.edit:
            self._post(NewDelivery(item.text, action="edit_notice", request_id=item.key))
        elif isinstance(item, Note):
            self._post(NewDelivery(item.text, request_id=item.key))
        elif isinstance(item, StatusChanged):
            await self._status(item)
        elif isinstance(item, PartCompleted | ToolStarted):
            self._part(item)
        elif isinstance(item, PermissionAskedEvent):
            await self.typing.stop()
            [text] = render_event(item)
            request_id = item.request.request_id
            self._post(NewDelivery(text, notify=True, view="permission", request_id=request_id))
        elif isinstance(item, PermissionResolved):
            self._permission_resolved(item)
        elif isinstance(item, QuestionAskedEvent):
            await self._question_asked(item)
        elif isinstance(item, QuestionResolved):
            text = question_outcome(item.request, item.answers, item.by, item.expired)
            self._post(NewDelivery(text, action="edit_prompt", request_id=item.request.request_id))
            self._resume_typing()
        elif isinstance(item, PromptDispatched):
            # Discord users already see their own message; queued ones and prompts typed elsewhere
            # (the control center, the CLI) are shown when they start.
            if item.from_queue or item.origin != "discord":
                self._post(NewDelivery(dispatched_line(item)))
        elif isinstance(item, TurnAborted):
            # /abort answers in the thread itself; an abort from elsewhere is announced here.
            if item.origin != "discord":
                self._post(NewDelivery(abort_notice(item)))
        else:
            if isinstance(item, TurnFinished):
                await self.typing.stop()
            texts = render_event(item, verbosity=self._verbosity())
            self._post(*(NewDelivery(text, notify=True) for text in texts))

    def _post(self, *deliveries: NewDelivery) -> None:
        if deliveries:
            self.bot.core.outbox.post(self.thread_id, deliveries)
            self.sender.wake()

    async def _status(self, event: StatusChanged) -> None:
        if event.state in ("busy", "retry"):
            if not self._waiting_for_user():
                self.typing.start()
        else:
            await self.typing.stop()

    def _waiting_for_user(self) -> bool:
        view = self.bot.core.conversations.get(self.thread_id)
        return view is not None and view.state == "waiting"

    def _verbosity(self) -> Verbosity:
        """The thread's channel's verbosity, read per line so /verbosity applies at once."""
        default = self.bot.settings.discord.verbosity
        view = self.bot.core.conversations.get(self.thread_id)
        if view is None:
            return default
        return self.bot.core.preferences.verbosity(view.channel_id, default=default)

    def _part(self, part: PartCompleted | ToolStarted) -> None:
        """Queue a part once, even across restarts (a started task's end is not posted again)."""
        texts = render_event(part, verbosity=self._verbosity())
        deliveries = [NewDelivery(text) for text in texts]
        if self.bot.core.outbox.post_part(self.thread_id, part.part_id, part.session_id, deliveries):
            self.sender.wake()

    # ---- approvals ---------------------------------------------------------------------------
    def _permission_resolved(self, event: PermissionResolved) -> None:
        request = event.request
        minutes = max(1, round((time.time() - request.asked_at) / 60))
        text = render_permission_outcome(
            request, event.reply, event.by, event.expired, timeout_minutes=minutes
        )
        self._post(NewDelivery(text, action="edit_prompt", request_id=request.request_id))
        self._resume_typing()

    async def _question_asked(self, event: QuestionAskedEvent) -> None:
        await self.typing.stop()
        texts = render_event(event)
        request_id = event.request.request_id
        self._post(
            *(NewDelivery(text, notify=True) for text in texts[:-1]),
            NewDelivery(texts[-1], notify=True, view="question", request_id=request_id),
        )

    def _resume_typing(self) -> None:
        view = self.bot.core.conversations.get(self.thread_id)
        if view is not None and view.busy and view.state != "waiting":
            self.typing.start()
