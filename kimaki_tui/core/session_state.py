"""What one thread's session is doing, kept from OpenCode's events: `SessionState`, the half of the
session runtime that follows the session (busy, a turn open, waiting for a person, failed; its
title, queue length and last turn) and tells every front end.

OpenCode events for the session arrive through `handle_event`, go through the pure reducer, and
the resulting domain events are published on the bus, stamped with the thread id (TurnFinished
gets the context limit and git branch filled in here). Permissions and questions the reducer
reports are registered with the approval brokers. The actions on the session (sending, queueing,
stopping) are `core.session.SessionRuntime`, built on this class.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import dataclasses
import time

from kimaki_tui.core import reducer
from kimaki_tui.core.api import ConversationState, ConversationView
from kimaki_tui.core.events import (
    DomainEvent,
    PermissionAskedEvent,
    QuestionAskedEvent,
    QueueChanged,
    QueuedItem,
    SessionFailed,
    StatusChanged,
    TitleChanged,
    TurnFinished,
)
from kimaki_tui.core.memory import MemoryNotes
from kimaki_tui.core.session_deps import CoreDeps
from kimaki_tui.core.session_queue import ThreadQueue
from kimaki_tui.logs import log_context
from kimaki_tui.opencode.events import Event, PermissionReplied, QuestionRejected, QuestionReplied
from kimaki_tui.store.records import ThreadOrigin


class SessionState(abc.ABC):
    def __init__(
        self,
        deps: CoreDeps,
        *,
        thread_id: str,
        channel_id: str,
        directory: str,
        session_id: str | None,
        origin: ThreadOrigin,
    ) -> None:
        self._deps = deps
        self.thread_id = thread_id
        self.channel_id = channel_id
        self.directory = directory
        self.session_id = session_id
        self.origin: ThreadOrigin = origin
        self.title = ""
        self._queue = ThreadQueue(deps.store, thread_id, self._announce_queue)
        self.last_activity = time.time()
        self.turn_started_at = 0.0  # when the running (or last) turn began: the dashboard's elapsed time
        self._state = reducer.initial_state(session_id or "")
        self._awaiting_turn = False
        # False from a send until OpenCode reports the session busy: the previous turn's two end
        # signals (status idle, then session.idle) must not end the turn just sent.
        self._turn_started = True
        self._idle = asyncio.Event()
        self._idle.set()
        self._settled = asyncio.Event()  # clear while OpenCode still settles an abort
        self._settled.set()
        self._turn_closed = asyncio.Event()  # clear from a turn's first event to its end
        self._turn_closed.set()
        self._last_turn: TurnFinished | None = None
        self._errored = False
        self._memory = MemoryNotes(deps.clock, deps.options.memory_idle_gap)

    @abc.abstractmethod
    def _schedule_drain(self) -> None:
        """Send what is queued once the session is idle (the runtime's part)."""

    # ---- state -------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._awaiting_turn or reducer.is_busy(self._state)

    @property
    def turn_open(self) -> bool:
        """OpenCode has reported the session idle but not yet ended the turn (its footer follows)."""
        return self._state.turn_open

    @property
    def queued(self) -> int:
        return self._queue.length

    def know_queue_length(self, length: int) -> None:
        """The queue's length as read in bulk (at load), so `queued` needs no query of its own."""
        self._queue.know_length(length)

    def waiting(self) -> bool:
        """A permission or question of this session waits for a person."""
        sid = self.session_id
        return bool(sid and (self._deps.permissions.pending(sid) or self._deps.questions.pending(sid)))

    def view(self) -> ConversationView:
        turn = self._last_turn
        state: ConversationState
        if self.waiting():
            state = "waiting"
        elif self.busy:
            state = "busy"
        else:
            state = "error" if self._errored else "idle"
        return ConversationView(
            thread_id=self.thread_id,
            channel_id=self.channel_id,
            directory=self.directory,
            session_id=self.session_id,
            title=self.title,
            state=state,
            busy=self.busy,
            queued=self.queued,
            tokens=turn.tokens_total if turn else 0,
            model=turn.model_id if turn else "",
            agent=turn.agent if turn else "",
            last_activity=self.last_activity,
            origin=self.origin,
            busy_since=self.turn_started_at if self.busy and self.turn_started_at else None,
        )

    # ---- OpenCode events ------------------------------------------------------------------
    def handle_event(self, event: Event) -> None:
        with log_context(thread_id=self.thread_id, session_id=self.session_id):
            self._handle_event(event)

    def _handle_event(self, event: Event) -> None:
        was_busy = self.busy
        self._state, outputs = reducer.reduce(self._state, event)
        if self.busy and not was_busy:  # a turn this run did not send (another client, a resume)
            self.turn_started_at = time.time()
        if reducer.is_busy(self._state):
            self._turn_started = True
        self.last_activity = time.time()
        if isinstance(event, PermissionReplied):
            self._deps.permissions.replied_elsewhere(event.request_id, event.reply)
        elif isinstance(event, QuestionReplied):
            self._deps.questions.resolved_elsewhere(event.request_id, event.answers)
        elif isinstance(event, QuestionRejected):
            self._deps.questions.resolved_elsewhere(event.request_id, None)
        for output in outputs:
            self._on_output(output)
        self.follow_state()

    def follow_state(self) -> None:
        """Set or clear what waiters watch, from the reducer's state (after each change to it)."""
        for event, open_ in (
            (self._settled, reducer.settling(self._state)),
            (self._turn_closed, self._state.turn_open),
        ):
            if open_:
                event.clear()
            else:
                event.set()

    async def wait_turn_closed(self, timeout: float) -> None:
        """Until OpenCode has ended the turn (its TurnFinished, the footer, is out), at most
        `timeout` s: it reports the session idle first, and the end follows."""
        if not self._turn_closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._turn_closed.wait(), timeout)

    def _on_output(self, output: DomainEvent) -> None:
        if isinstance(output, PermissionAskedEvent):
            self._deps.permissions.register(
                output.request, directory=self.directory, thread_id=self.thread_id
            )
        elif isinstance(output, QuestionAskedEvent):
            self._deps.questions.register(output.request, directory=self.directory, thread_id=self.thread_id)
        elif isinstance(output, TitleChanged):
            self.title = output.title
        elif isinstance(output, SessionFailed):
            self._errored = True
        elif isinstance(output, TurnFinished):
            output = self._complete(output)
        elif (
            isinstance(output, StatusChanged) and output.state == "idle" and not reducer.is_busy(self._state)
        ):
            self._turn_ended()
        self._publish(output)

    def _turn_ended(self) -> None:
        if not self._turn_started:
            return  # a late end signal of the turn before the prompt just sent
        self._awaiting_turn = False
        self._idle.set()
        self._schedule_drain()

    def assume_turn_started(self) -> None:
        """A resync found the session idle on the server: the turn we sent ran while we were away."""
        self._turn_started = True

    def _publish(self, event: DomainEvent) -> None:
        """Publish an event of this session, stamped with the thread showing it."""
        self._deps.bus.publish(dataclasses.replace(event, thread_id=self.thread_id))

    def _complete(self, turn: TurnFinished) -> TurnFinished:
        server = self._deps.server
        turn = dataclasses.replace(
            turn,
            context_limit=turn.context_limit or server.context_limit(turn.provider_id, turn.model_id),
            branch=turn.branch or server.branch(self.directory),
            directory=turn.directory or self.directory,
        )
        self._last_turn = turn
        self._memory.touch()
        if turn.natural:
            self._errored = False
        self._turn_ended()
        return turn

    def fail_turn(self, name: str, message: str) -> None:
        """The server went away mid-turn: report the turn as failed and free the session."""
        if not self.busy or self.session_id is None:
            return
        self._state = reducer.abandon_turn(self._state)
        self.follow_state()
        self._publish(SessionFailed(self.session_id, name, message))
        self._on_output(TurnFinished(self.session_id, False, 0.0, 0, 0, 0, 0, None, "", "", ""))

    def _announce_queue(self, items: tuple[QueuedItem, ...]) -> None:
        """Tell every front end what is queued now."""
        self._publish(QueueChanged(self.session_id or "", items))
