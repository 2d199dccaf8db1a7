"""One thread's session runtime: prompts, the persisted local queue, interrupts and aborts.

Every action on a session (send, queue, drain, abort, interrupt) runs under one lock, so they
happen one at a time and in arrival order. What the session is doing, kept from OpenCode's
events, is the base class (`session_state.SessionState`); the runtime's collaborators come from
`session_deps` (`CoreDeps`), the thread's queue is `session_queue.ThreadQueue`, a new session is
created by `session_open`, and OpenCode's slash commands are recognised and run by
`session_commands`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kimaki_tui.core import reducer
from kimaki_tui.core.context import SessionContext
from kimaki_tui.core.events import PromptDispatched, QueuedItem, SessionFailed, TurnAborted
from kimaki_tui.core.prompts import PromptInput, SubmitResult
from kimaki_tui.core.session_commands import CommandRuns, command_of
from kimaki_tui.core.session_deps import CoreDeps
from kimaki_tui.core.session_open import open_session
from kimaki_tui.core.session_queue import prompt_of
from kimaki_tui.core.session_setup import SessionSetup
from kimaki_tui.core.session_state import SessionState
from kimaki_tui.core.shell import SHELL_BUSY, ShellResult, run_shell
from kimaki_tui.errors import one_line
from kimaki_tui.logs import log_context
from kimaki_tui.opencode.errors import OpenCodeError, SessionNotFound
from kimaki_tui.opencode.schema import ModelRef, text_part
from kimaki_tui.store.channel_settings import EVERY_CHANNEL, GLOBAL_MODEL
from kimaki_tui.store.records import ThreadOrigin
from kimaki_tui.store.retry import until_stored_async

log = logging.getLogger(__name__)

# OpenCode's turn end follows its "idle" within milliseconds; one that never comes holds no queue.
TURN_END_WAIT = 2.0


class SessionRuntime(SessionState):
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
        super().__init__(
            deps,
            thread_id=thread_id,
            channel_id=channel_id,
            directory=directory,
            session_id=session_id,
            origin=origin,
        )
        self._setup = setup or SessionSetup()
        self._on_session = on_session
        self._lock = asyncio.Lock()
        self._interrupt_task: asyncio.Task[None] | None = None
        # Turns are numbered so a message only interrupts the turn it arrived during.
        self._turn_seq = 0
        self._interrupt_seq = -1
        self._drain_task: asyncio.Task[None] | None = None
        self._context = SessionContext(thread_id=thread_id, channel_id=channel_id)
        self._notes: list[str] = []  # context held while a turn runs, sent with the next prompt
        self._last_prompt: PromptInput | None = None  # what `rerun` sends again
        self._commands = CommandRuns(deps.client, thread_id, directory, self._command_failed)

    @property
    def in_use(self) -> bool:
        """Something runs or waits here: a turn, an action under way (creating the session,
        sending), or queued prompts. An idle sandbox is paused only when this is false."""
        return self.busy or self.turn_open or self._lock.locked() or self.queued > 0

    # ---- front-end commands -------------------------------------------------------------
    async def submit(self, prompt: PromptInput) -> SubmitResult:
        """A new message: sent now when idle, otherwise the busy policy decides."""
        async with self._lock:
            if not self.busy and not self._queue.waiting():
                return await self._send(prompt, from_queue=False)
            position = self._queue.add(prompt, self.session_id)
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
            position = self._queue.add(prompt, self.session_id)
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
        return self._queue.remove(item_id)

    def queued_for_message(self, external_message_id: str) -> int | None:
        """The id of the queued item that chat message became, if it still waits."""
        return self._queue.for_message(external_message_id)

    def edit_queued_message(self, external_message_id: str, text: str) -> bool:
        """The chat message was edited while it waits: the queued prompt becomes its new text."""
        return self._queue.edit_message(external_message_id, text)

    def move_queued(self, item_id: int, delta: int) -> None:
        self._queue.move(item_id, delta)

    def clear_queue(self) -> int:
        return self._queue.clear()

    def resume_queue(self) -> None:
        """Drain what a previous run left queued, once the session is idle."""
        if self._queue.waiting():
            self._schedule_drain()

    def queue(self) -> tuple[QueuedItem, ...]:
        return self._queue.items()

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

    # ---- internals ------------------------------------------------------------------------
    async def _create_session(self) -> None:
        session_id = await open_session(
            self._deps,
            self._setup,
            thread_id=self.thread_id,
            channel_id=self.channel_id,
            directory=self.directory,
            origin=self.origin,
        )
        self.session_id = session_id
        self._state = reducer.initial_state(session_id)
        self._memory.session_created()
        self._context.session_created()
        self._on_session(self)

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
            command = await command_of(self._deps.client, self.directory, prompt.text)
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
                # The footer's branch and context limit are refreshed alongside, not before, the
                # prompt; the prompt itself leaves at once (gathered, it waited a whole loop round,
                # behind every other thread's work in a burst).
                refreshing = asyncio.ensure_future(self._deps.server.refresh(self.directory))
                try:
                    await sending
                except BaseException:
                    refreshing.cancel()  # this caller's wait only: the lookup is shared, shielded
                    raise
                await refreshing
                if command is not None:
                    self._commands.start(self.session_id, *command, agent=agent, model=model, variant=variant)
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

    def _command_failed(self, session_id: str, exc: OpenCodeError) -> None:
        """An OpenCode command's request failed: if its turn never started, the turn fails."""
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
            self.follow_state()
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
        # The thread shows the last turn's footer before the next prompt's line.
        await self.wait_turn_closed(TURN_END_WAIT)
        async with self._lock:
            if self.busy:
                return
            # Taken off the queue before sending, so a removal racing the send cannot "succeed"
            # for a prompt that still goes out; a failed send puts it back at the head.
            row = self._queue.take_next()
            if row is None:
                return
            result = await self._send(prompt_of(row), from_queue=True)
            if result.outcome != "sent":  # put back at the head; a locked database delays that
                await self._queue.put_back(row)

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
            if self.busy and self._turn_seq == seq and self._queue.waiting():
                log.info("interrupting session %s for a new message", self.session_id)
                await self._stop_turn(by="new message", origin="interrupt")
        self._schedule_drain()

    async def close(self) -> None:
        self._cancel_interrupt()
        for task in (self._drain_task, self._interrupt_task, *self._commands.tasks):
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
