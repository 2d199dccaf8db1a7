"""The conversations (a thread and its session) as every front end drives them: views, prompts,
the queue and aborts, by thread id.

The shared rule for a message typed while a question waits lives here (`answer_waiting`), so a
message typed in the control center answers the question exactly as one sent in Discord does.
"""

from __future__ import annotations

from kimaki_tui.core.api import AnswerResult, ConversationView, OpenCodeGivenUp, UnknownThread
from kimaki_tui.core.approval_service import ApprovalService
from kimaki_tui.core.events import QueuedItem
from kimaki_tui.core.prompts import PromptInput, SayResult, SubmitResult
from kimaki_tui.core.server import ServerControl
from kimaki_tui.core.session import SessionRuntime
from kimaki_tui.core.session_setup import SessionSetup
from kimaki_tui.core.sessions import SessionRegistry
from kimaki_tui.core.shell import SHELL_TIMEOUT, ShellResult
from kimaki_tui.store.records import ThreadOrigin


class ConversationService:
    """`server` is the OpenCode server's status: once it was given up on, prompts are refused at
    once with the reason instead of waiting for a server that will not come back."""

    def __init__(
        self, sessions: SessionRegistry, approvals: ApprovalService, server: ServerControl | None = None
    ) -> None:
        self._sessions = sessions
        self._approvals = approvals
        self._server = server

    def _check_server(self) -> None:
        if self._server is not None and self._server.status.state == "failed":
            raise OpenCodeGivenUp(self._server.status.detail)

    def runtime(self, thread_id: str) -> SessionRuntime:
        runtime = self._sessions.get(thread_id)
        if runtime is None:
            raise UnknownThread(f"thread {thread_id} has no session in this kimaki instance")
        return runtime

    # ---- views ----------------------------------------------------------------------------------
    def get(self, thread_id: str) -> ConversationView | None:
        runtime = self._sessions.get(thread_id)
        return None if runtime is None else runtime.view()

    def all(self) -> list[ConversationView]:
        return [runtime.view() for runtime in self._sessions.all()]

    def for_session(self, session_id: str) -> ConversationView | None:
        runtime = self._sessions.for_session(session_id)
        return None if runtime is None else runtime.view()

    def open(
        self,
        thread_id: str,
        channel_id: str,
        directory: str,
        *,
        session_id: str | None = None,
        origin: ThreadOrigin = "discord",
        setup: SessionSetup | None = None,
    ) -> ConversationView:
        return self._sessions.open(thread_id, channel_id, directory, session_id, origin, setup).view()

    # ---- prompts --------------------------------------------------------------------------------
    async def say(self, thread_id: str, prompt: PromptInput) -> SayResult:
        answered = await self.answer_waiting(
            thread_id, prompt.text, by=prompt.author_name or prompt.origin, origin=prompt.origin
        )
        if answered is not None:
            return SayResult("answered") if answered.ok else SayResult("failed", message=answered.message)
        result = await self.submit(thread_id, prompt)
        return SayResult(result.outcome, result.position, result.message)

    async def answer_waiting(self, thread_id: str, text: str, *, by: str, origin: str) -> AnswerResult | None:
        session_id = self.runtime(thread_id).session_id
        if session_id is None:
            return None
        return await self._approvals.answer_typed(session_id, text, by=by, origin=origin)

    async def submit(self, thread_id: str, prompt: PromptInput) -> SubmitResult:
        self._check_server()
        return await self.runtime(thread_id).submit(prompt)

    async def enqueue(self, thread_id: str, prompt: PromptInput) -> SubmitResult:
        self._check_server()
        return await self.runtime(thread_id).enqueue(prompt)

    async def note(self, thread_id: str, prompt: PromptInput) -> None:
        await self.runtime(thread_id).note(prompt)

    async def abort(self, thread_id: str, *, by: str, origin: str) -> bool:
        return await self.runtime(thread_id).abort(by=by, origin=origin)

    async def rerun(self, thread_id: str, *, by: str, origin: str) -> bool:
        return await self.runtime(thread_id).rerun(by=by, origin=origin)

    async def ensure_session(self, thread_id: str) -> str:
        self._check_server()
        return await self.runtime(thread_id).ensure_session()

    async def shell(self, thread_id: str, command: str, *, timeout: float = SHELL_TIMEOUT) -> ShellResult:
        self._check_server()
        return await self.runtime(thread_id).shell(command, timeout)

    # ---- the queue ------------------------------------------------------------------------------
    def queue(self, thread_id: str) -> tuple[QueuedItem, ...]:
        return self.runtime(thread_id).queue()

    def remove_queued(self, thread_id: str, item_id: int) -> bool:
        runtime = self.runtime(thread_id)
        if not any(item.item_id == item_id for item in runtime.queue()):
            return False  # another thread's item, or already gone
        return runtime.remove_queued(item_id)

    def edit_queued_message(self, thread_id: str, external_message_id: str, text: str) -> bool:
        """An edited chat message that still waits in the queue: its prompt is updated. False when
        it is not queued (already sent: the edit changes nothing)."""
        return self.runtime(thread_id).edit_queued_message(external_message_id, text)

    def remove_queued_message(self, thread_id: str, external_message_id: str) -> bool:
        """A deleted chat message that still waits in the queue is removed from it."""
        runtime = self.runtime(thread_id)
        item_id = runtime.queued_for_message(external_message_id)
        return item_id is not None and runtime.remove_queued(item_id)

    def move_queued(self, thread_id: str, item_id: int, delta: int) -> None:
        self.runtime(thread_id).move_queued(item_id, delta)

    def clear_queue(self, thread_id: str) -> int:
        return self.runtime(thread_id).clear_queue()
