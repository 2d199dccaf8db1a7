"""One thread's session runtime: prompts, the persisted local queue, interrupts and aborts.

Every action on a session (send, queue, drain, abort, interrupt) runs under one lock, so they
happen one at a time and in arrival order. OpenCode events for the session arrive through
`handle_event`, go through the pure reducer, and the resulting domain events are published on
the bus, stamped with the thread id (TurnFinished gets the context limit and git branch filled
in here).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from kimaki_tui.core import reducer
from kimaki_tui.core.api import ConversationState, ConversationView
from kimaki_tui.core.approvals import PermissionBroker, QuestionBroker
from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.context import SessionContext
from kimaki_tui.core.delivery import ChatDelivery
from kimaki_tui.core.events import (
    DomainEvent,
    PermissionAskedEvent,
    PromptDispatched,
    QuestionAskedEvent,
    QueueChanged,
    QueuedItem,
    SessionFailed,
    StatusChanged,
    TitleChanged,
    TurnAborted,
    TurnFinished,
)
from kimaki_tui.core.memory import MemoryNotes
from kimaki_tui.core.prompts import FileInput, PromptInput, SubmitResult
from kimaki_tui.core.session_setup import SessionSetup
from kimaki_tui.core.shell import SHELL_BUSY, ShellResult, run_shell
from kimaki_tui.core.workflows import split_command
from kimaki_tui.errors import KimakiError, one_line
from kimaki_tui.logs import log_context
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeError, SessionNotFound
from kimaki_tui.opencode.events import Event, PermissionReplied, QuestionRejected, QuestionReplied
from kimaki_tui.opencode.injection_guard import GuardFiles
from kimaki_tui.opencode.schema import ModelRef, text_part
from kimaki_tui.settings import SessionSettings
from kimaki_tui.store.channel_settings import EVERY_CHANNEL, GLOBAL_MODEL
from kimaki_tui.store.records import QueuedRow, ThreadOrigin
from kimaki_tui.store.repo import Store
from kimaki_tui.store.retry import until_stored, until_stored_async

log = logging.getLogger(__name__)



class ServerInfo(Protocol):
    """Cached facts about the OpenCode server the runtime needs synchronously."""

    def context_limit(self, provider_id: str, model_id: str) -> int | None: ...

    async def refresh(self, directory: str) -> None: ...

    def branch(self, directory: str) -> str: ...


@dataclass(slots=True)
class CoreDeps:
    client: OpenCodeClient
    store: Store
    bus: EventBus
    permissions: PermissionBroker
    questions: QuestionBroker
    server: ServerInfo
    wait_stream: Callable[[], Awaitable[None]]
    options: SessionSettings = dataclasses.field(default_factory=SessionSettings)
    clock: Callable[[], float] = time.monotonic  # MEMORY.md reminders' idle gap (injectable for tests)
    chat: ChatDelivery = dataclasses.field(default_factory=ChatDelivery)
    injection_guard: GuardFiles | None = None  # where the guard plugin reads sessions' patterns


class SessionRuntime:
    def __init__(
        self,
        deps: CoreDeps,
        *,
        thread_id: str,
        channel_id: str,
        directory: str,
        session_id: str | None,
        origin: ThreadOrigin = "discord",
        on_session: Callable[[SessionRuntime], None] = lambda runtime: None,
        setup: SessionSetup | None = None,
    ) -> None:
        self._deps = deps
        self._setup = setup or SessionSetup()
        self._on_session = on_session
        self.thread_id = thread_id
        self.channel_id = channel_id
        self.directory = directory
        self.session_id = session_id
        self.origin: ThreadOrigin = origin
        self.title = ""
        self._queued: int | None = None  # queue length, read from the store once, then kept
        self.last_activity = time.time()
        self.turn_started_at = 0.0  # when the running (or last) turn began: the dashboard's elapsed time
        self._state = reducer.initial_state(session_id or "")
        self._lock = asyncio.Lock()
        self._awaiting_turn = False
        # False from a send until OpenCode reports the session busy: the previous turn's two end
        # signals (status idle, then session.idle) must not end the turn just sent.
        self._turn_started = True
        self._idle = asyncio.Event()
        self._idle.set()
        self._settled = asyncio.Event()  # clear while OpenCode still settles an abort
        self._settled.set()
        self._interrupt_task: asyncio.Task[None] | None = None
        # Turns are numbered so a message only interrupts the turn it arrived during.
        self._turn_seq = 0
        self._interrupt_seq = -1
        self._drain_task: asyncio.Task[None] | None = None
        self._last_turn: TurnFinished | None = None
        self._errored = False
        self._memory = MemoryNotes(deps.clock, deps.options.memory_idle_gap)
        self._context = SessionContext(thread_id=thread_id, channel_id=channel_id)
        self._notes: list[str] = []  # context held while a turn runs, sent with the next prompt
        self._last_prompt: PromptInput | None = None  # what `rerun` sends again
        self._command_tasks: set[asyncio.Task[None]] = set()  # OpenCode commands being run

    # ---- state -------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._awaiting_turn or reducer.is_busy(self._state)

    @property
    def turn_open(self) -> bool:
        """OpenCode has reported the session idle but not yet ended the turn (its footer follows)."""
        return self._state.turn_open

    @property
    def in_use(self) -> bool:
        """Something runs or waits here: a turn, an action under way (creating the session,
        sending), or queued prompts. An idle sandbox is paused only when this is false."""
        return self.busy or self.turn_open or self._lock.locked() or self.queued > 0

    @property
    def queued(self) -> int:
        if self._queued is None:
            self._queued = len(self._deps.store.queue_items(self.thread_id))
        return self._queued

    def know_queue_length(self, length: int) -> None:
        """The queue's length as read in bulk (at load), so `queued` needs no query of its own."""
        self._queued = length

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

    # ---- front-end commands -------------------------------------------------------------
    async def submit(self, prompt: PromptInput) -> SubmitResult:
        """A new message: sent now when idle, otherwise the busy policy decides."""
        async with self._lock:
            if not self.busy and not self._deps.store.queue_items(self.thread_id):
                return await self._send(prompt, from_queue=False)
            position = self._enqueue(prompt)
            if self._deps.options.busy_policy == "queue" or not self.busy:
                self._schedule_drain()
                return SubmitResult("queued", position)
            self._schedule_interrupt()
            return SubmitResult("interrupting", position)

    async def note(self, prompt: PromptInput) -> None:
        """Context, not a prompt. Added at once (noReply) when idle; during a turn OpenCode would
        answer it after the turn, so it is held and goes with the next prompt instead."""
        text = f"[{prompt.author_name or prompt.origin}, to the others in the thread] {prompt.text}"
        async with self._lock:
            if self.busy or self.queued or self.session_id is None:
                self._notes.append(text)
                return
            with log_context(thread_id=self.thread_id, session_id=self.session_id):
                await self._deps.client.prompt_async(
                    self.session_id, self.directory, [text_part(text)], no_reply=True
                )
            self.last_activity = time.time()

    async def enqueue(self, prompt: PromptInput) -> SubmitResult:
        """Explicit queueing (/queue): waits for the current turn; sent at once when idle."""
        async with self._lock:
            position = self._enqueue(prompt)
        self._schedule_drain()
        return SubmitResult("queued", position)

    async def abort(self, *, by: str, origin: str) -> bool:
        """Stop the current turn and announce it (TurnAborted). Pending approvals are rejected
        first: OpenCode keeps them otherwise."""
        self._cancel_interrupt()
        async with self._lock:
            was_busy = self.busy
            await self._stop_turn(by=by, origin=origin)
        if was_busy and self.session_id is not None:
            self._publish(TurnAborted(self.session_id, by, origin))
        self._schedule_drain()
        return was_busy

    async def rerun(self, *, by: str, origin: str) -> bool:
        """A new model chosen while a turn runs: stop the turn and send its prompt again, with the
        preferences now in force. False (nothing done) when no prompt of this runtime is running."""
        self._cancel_interrupt()
        async with self._lock:
            prompt = self._last_prompt
            if not self.busy or prompt is None:
                return False
            await self._stop_turn(by=by, origin=origin)
            await self._send(dataclasses.replace(prompt, model=None), from_queue=False)
        return True

    def remove_queued(self, item_id: int) -> bool:
        removed = self._deps.store.remove_queued(item_id)
        self._publish_queue()
        return removed

    def queued_for_message(self, external_message_id: str) -> int | None:
        """The id of the queued item that chat message became, if it still waits."""
        rows = self._deps.store.queue_items(self.thread_id)
        return next((r.id for r in rows if r.external_message_id == external_message_id), None)

    def edit_queued_message(self, external_message_id: str, text: str) -> bool:
        """The chat message was edited while it waits: the queued prompt becomes its new text."""
        if self.queued_for_message(external_message_id) is None:
            return False
        self._deps.store.update_queued_prompt(external_message_id, text)
        self._publish_queue()
        return True

    def move_queued(self, item_id: int, delta: int) -> None:
        self._deps.store.move_queued(item_id, delta)
        self._publish_queue()

    def clear_queue(self) -> int:
        count = self._deps.store.clear_queue(self.thread_id)
        self._publish_queue()
        return count

    def resume_queue(self) -> None:
        """Drain what a previous run left queued, once the session is idle."""
        if self._deps.store.queue_items(self.thread_id):
            self._schedule_drain()

    def queue(self) -> tuple[QueuedItem, ...]:
        return tuple(_item(row) for row in self._deps.store.queue_items(self.thread_id))

    async def ensure_session(self) -> str:
        if self.session_id is None:
            await self._create_session()
        assert self.session_id is not None
        return self.session_id

    async def shell(self, command: str, timeout: float) -> ShellResult:
        if self.busy:
            return ShellResult(refused=SHELL_BUSY)
        session_id = await self.ensure_session()
        return await run_shell(self._deps.client, session_id, self.directory, command, timeout)

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
        if reducer.settling(self._state):
            self._settled.clear()
        else:
            self._settled.set()
        self.last_activity = time.time()
        if isinstance(event, PermissionReplied):
            self._deps.permissions.replied_elsewhere(event.request_id, event.reply)
        elif isinstance(event, QuestionReplied):
            self._deps.questions.resolved_elsewhere(event.request_id, event.answers)
        elif isinstance(event, QuestionRejected):
            self._deps.questions.resolved_elsewhere(event.request_id, None)
        for output in outputs:
            self._on_output(output)

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
        self._settled.set()
        self._publish(SessionFailed(self.session_id, name, message))
        self._on_output(TurnFinished(self.session_id, False, 0.0, 0, 0, 0, 0, None, "", "", ""))

    # ---- internals ------------------------------------------------------------------------
    def _enqueue(self, prompt: PromptInput) -> int:
        self._deps.store.enqueue(
            self.thread_id,
            prompt.text,
            prompt.author_id,
            prompt.author_name,
            prompt.origin,
            files=[f.to_json() for f in prompt.files],
            session_id=self.session_id,
            external_message_id=prompt.external_message_id,
        )
        return self._publish_queue()

    def _publish_queue(self) -> int:
        """Tell every front end what is queued now; returns the queue's length."""
        items = self.queue()
        self._queued = len(items)
        self._publish(QueueChanged(self.session_id or "", items))
        return len(items)

    async def _create_session(self) -> None:
        setup = self._setup
        info = await self._deps.client.create_session(
            self.directory, permission=setup.rules(), parent_id=setup.parent_session_id
        )
        if setup.injection_guard:
            self._guard(info.id, setup.injection_guard)
        # Mapped before the runtime uses the session; a locked database delays this (the session
        # exists in OpenCode now: dropping the mapping would leave it orphaned).
        store = self._deps.store
        await until_stored(
            lambda: store.map_thread(self.thread_id, info.id, self.channel_id, self.directory, self.origin),
            f"the session of thread {self.thread_id}",
        )
        self.session_id = info.id
        self._state = reducer.initial_state(info.id)
        self._memory.session_created()
        self._context.session_created()
        self._on_session(self)

    def _guard(self, session_id: str, patterns: tuple[str, ...]) -> None:
        """Hand the guard plugin its patterns before the session's first tool can run; a session
        asked to be guarded never runs without it."""
        guard = self._deps.injection_guard
        if guard is None:
            raise KimakiError(
                "This kimaki cannot guard tool output (--injection-guard): its OpenCode server was "
                "started without the guard plugin.",
                "Start the session without --injection-guard, or restart kimaki.",
            )
        try:
            guard.write(session_id, patterns)
        except OSError as exc:
            raise KimakiError(
                f"Could not save the session's --injection-guard patterns: {exc.strerror or exc}.",
                f"Check that {guard.directory} is writable.",
            ) from None

    def _model_and_agent(self, prompt: PromptInput) -> tuple[ModelRef | None, str | None]:
        store = self._deps.store
        session_pref = store.get_session_pref(self.session_id) if self.session_id else None
        channel_pref = store.get_channel_pref(self.channel_id)
        model = (
            prompt.model
            or _pick(session_pref, channel_pref, "model")
            or store.get_channel_setting(EVERY_CHANNEL, GLOBAL_MODEL)
        )
        agent = prompt.agent or _pick(session_pref, channel_pref, "agent")
        return (ModelRef.parse(model) if model else None), agent

    def preferences(self) -> tuple[ModelRef | None, str | None]:
        """The model and agent the next prompt will ask for (session, channel, then global preferences)."""
        return self._model_and_agent(PromptInput(""))

    async def _send(self, prompt: PromptInput, *, from_queue: bool) -> SubmitResult:
        with log_context(thread_id=self.thread_id, session_id=self.session_id):
            return await self._send_now(prompt, from_queue=from_queue)

    async def _send_now(self, prompt: PromptInput, *, from_queue: bool) -> SubmitResult:
        await self._deps.wait_stream()
        for attempt in (1, 2):
            await self.ensure_session()
            assert self.session_id is not None
            model, agent = self._model_and_agent(prompt)
            variant = self._deps.store.variant(self.channel_id, self.thread_id)
            command = await self._command_of(prompt.text)
            context: list[dict[str, Any]] = [
                *self._context.prompt_parts(prompt),
                *(text_part(note) for note in self._notes),
                *self._memory.prompt_parts(self.directory),
            ]
            parts = [*context, text_part(prompt.text), *(f.to_part() for f in prompt.files)]
            if not self.busy:
                self.turn_started_at = time.time()
            self._awaiting_turn = True
            self._turn_started = False
            self._turn_seq += 1
            self._idle.clear()
            self._errored = False
            try:
                # A command's request lasts its whole turn, and its text is OpenCode's template: the
                # context goes first as a message of its own (noReply), which also checks the session
                # (a vanished one is replaced as for a prompt); then the command runs on its own.
                sending: Awaitable[object] = (
                    self._send_context(context, agent=agent, model=model)
                    if command is not None
                    else self._deps.client.prompt_async(
                        self.session_id, self.directory, parts, agent=agent, model=model, variant=variant
                    )
                )
                # The footer's branch and context limit are refreshed alongside, not before, the prompt.
                await asyncio.gather(sending, self._deps.server.refresh(self.directory))
                if command is not None:
                    self._start_command(self.session_id, *command, agent=agent, model=model, variant=variant)
            except SessionNotFound:
                # The stored session vanished on the server: start a fresh one for this thread.
                self._awaiting_turn = False
                self._idle.set()
                if attempt == 2:
                    raise
                log.warning(
                    "session %s not found; creating a new one for thread %s", self.session_id, self.thread_id
                )
                self.session_id = None
                continue
            except OpenCodeError as exc:
                self._awaiting_turn = False
                self._idle.set()
                self._errored = True
                self._publish(SessionFailed(self.session_id, type(exc).__name__, one_line(exc)))
                return SubmitResult("failed", message=one_line(exc))
            break
        self._last_prompt = prompt
        self._context.sent(prompt)
        self._memory.sent()
        self._notes.clear()
        self.last_activity = time.time()
        assert self.session_id is not None
        # The first prompt of a thread created its session after the log context was bound.
        queued, extra = ", queued" * from_queue, {"session_id": self.session_id}
        log.info("sent %s's prompt (%s%s)", prompt.author_name, prompt.origin, queued, extra=extra)
        self._publish(
            PromptDispatched(self.session_id, prompt.text, prompt.author_name, prompt.origin, from_queue)
        )
        return SubmitResult("sent")

    async def _send_context(
        self, context: list[dict[str, Any]], *, agent: str | None, model: ModelRef | None
    ) -> None:
        """Store the context before a command as a message the model does not answer (noReply).
        The blocking route returns once it is stored, so the command's turn sees it."""
        assert self.session_id is not None
        if not context:
            await self._deps.client.get_session(self.session_id, self.directory)
            return
        await self._deps.client.prompt(
            self.session_id, self.directory, context, agent=agent, model=model, no_reply=True
        )

    async def _command_of(self, text: str) -> tuple[str, str] | None:
        """(name, arguments) when the text starts with `/name` of an OpenCode command of this
        project (its own, the project's, an MCP prompt or a skill); else None: a plain prompt."""
        wanted = split_command(text)
        if wanted is None:
            return None
        try:
            known = {c.name for c in await self._deps.client.commands(self.directory)}
        except OpenCodeError as exc:
            log.warning("cannot list OpenCode's commands in %s: %s", self.directory, exc)
            return None
        return wanted if wanted[0] in known else None

    def _start_command(
        self,
        session_id: str,
        name: str,
        arguments: str,
        *,
        agent: str | None,
        model: ModelRef | None,
        variant: str | None,
    ) -> None:
        """OpenCode's command route answers only when the whole turn is over; the turn is
        followed through the event stream like a prompt's, so the request runs on its own."""
        run = self._run_command(session_id, name, arguments, agent=agent, model=model, variant=variant)
        task = asyncio.ensure_future(run)
        self._command_tasks.add(task)
        task.add_done_callback(self._command_tasks.discard)

    async def _run_command(
        self,
        session_id: str,
        name: str,
        arguments: str,
        *,
        agent: str | None,
        model: ModelRef | None,
        variant: str | None,
    ) -> None:
        with log_context(thread_id=self.thread_id, session_id=session_id):
            log.info("running OpenCode command /%s", name)
            try:
                await self._deps.client.command(
                    session_id,
                    self.directory,
                    name,
                    arguments,
                    agent=agent,
                    model=model,
                    timeout=None,
                    variant=variant,
                )
            except OpenCodeError as exc:
                log.warning("OpenCode command /%s failed: %s", name, exc)
                if self._awaiting_turn and not reducer.is_busy(self._state):  # it never started
                    self._awaiting_turn = False
                    self._idle.set()
                    self._errored = True
                    self._publish(SessionFailed(session_id, type(exc).__name__, str(exc)))
                    self._schedule_drain()

    async def _stop_turn(self, *, by: str, origin: str) -> None:
        if self.session_id is None:
            return
        await self._deps.permissions.reject_session(self.session_id, by=by, origin=origin)
        await self._deps.questions.reject_session(self.session_id, by=by, origin=origin)
        if not self.busy:
            return
        try:
            await self._deps.client.abort(self.session_id, self.directory)
        except OpenCodeError as exc:
            log.warning("abort of %s failed: %s", self.session_id, exc)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), self._deps.options.idle_wait)
        if self.busy:
            # OpenCode did not confirm in time; don't leave the thread stuck behind a ghost turn.
            self._state = reducer.abandon_turn(self._state)
            self._awaiting_turn = False
            self._idle.set()
            self._settled.set()
            return
        # The next prompt waits until OpenCode has closed the aborted message: 1.2 goes idle
        # first and would abort a prompt sent before that too.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), self._deps.options.idle_wait)

    def _schedule_drain(self) -> None:
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = asyncio.ensure_future(self._drain_when_stored())

    async def _drain_when_stored(self) -> None:
        """Drain; while another program holds the database, try again later instead of dying."""
        await self._deps.chat.wait()  # until the chat listens, its answer would be posted nowhere
        await until_stored_async(self._drain, f"the queue of thread {self.thread_id}")

    async def _drain(self) -> None:
        async with self._lock:
            if self.busy:
                return
            store = self._deps.store
            # Taken off the queue before sending, so a removal racing the send cannot "succeed"
            # for a prompt that still goes out; a failed send puts it back at the head.
            row = store.pop_next(self.thread_id)
            if row is None:
                return
            self._publish_queue()
            result = await self._send(_prompt(row), from_queue=True)
            if result.outcome != "sent":  # put back at the head; a locked database delays that
                await until_stored(lambda: store.put_back(row), f"the queue of thread {self.thread_id}")
                self._publish_queue()

    def _schedule_interrupt(self) -> None:
        seq = self._turn_seq
        pending = self._interrupt_task is not None and not self._interrupt_task.done()
        if pending and self._interrupt_seq == seq:
            return
        self._interrupt_seq = seq
        self._interrupt_task = asyncio.ensure_future(self._interrupt_later(seq))

    def _cancel_interrupt(self) -> None:
        if self._interrupt_task is not None and not self._interrupt_task.done():
            self._interrupt_task.cancel()

    async def _interrupt_later(self, seq: int) -> None:
        """Kimaki's behaviour: a message sent while busy interrupts that turn after a short delay.

        Only the turn running when the message arrived is interrupted: messages that were already
        waiting in a burst then run one after another instead of cutting each other off.
        """
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), self._deps.options.interrupt_delay)
        async with self._lock:
            if self.busy and self._turn_seq == seq and self._deps.store.queue_items(self.thread_id):
                log.info("interrupting session %s for a new message", self.session_id)
                await self._stop_turn(by="new message", origin="interrupt")
        self._schedule_drain()

    async def close(self) -> None:
        self._cancel_interrupt()
        for task in (self._drain_task, self._interrupt_task, *self._command_tasks):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def _pick(session_pref: Any, channel_pref: Any, field: str) -> str | None:
    for pref in (session_pref, channel_pref):
        value = getattr(pref, field, None) if pref is not None else None
        if value:
            return str(value)
    return None


def _item(row: QueuedRow) -> QueuedItem:
    return QueuedItem(row.id, row.prompt, row.author_name, row.origin)


def _prompt(row: QueuedRow) -> PromptInput:
    files = tuple(FileInput(f["url"], f["mime"], f["filename"]) for f in row.files)
    return PromptInput(
        row.prompt,
        row.author_id,
        row.author_name,
        row.origin,
        files,
        external_message_id=row.external_message_id,
    )
