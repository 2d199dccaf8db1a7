"""The approvals every front end answers: pending permissions and questions, partial answers to
questions with several parts (drafts), and where a front end shows each prompt.

Answers go to the brokers (core.approvals), which decide who was first and announce the outcome.
A draft lives until its question is answered, rejected or expires.
"""

from __future__ import annotations

from collections.abc import Sequence

from kimaki_tui.core.api import AnswerResult, LeftOverPrompt, PromptMessage
from kimaki_tui.core.approvals import PermissionBroker, QuestionBroker
from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.events import PermissionReply, PermissionRequest, QuestionRequest, QuestionResolved
from kimaki_tui.logs import log_context
from kimaki_tui.store.records import PendingRow
from kimaki_tui.store.repo import Store


class QuestionDrafts:
    """Answers picked so far for questions with several parts (kept in memory until complete)."""

    def __init__(self) -> None:
        self._drafts: dict[str, dict[int, list[str]]] = {}

    def choose(self, request: QuestionRequest, index: int, labels: Sequence[str]) -> list[list[str]] | None:
        """Record one part; the full answer list once every question has one, else None."""
        draft = self._drafts.setdefault(request.request_id, {})
        draft[index] = list(labels)
        count = len(request.questions)
        if all(i in draft for i in range(count)):
            return [draft[i] for i in range(count)]
        return None

    def typed(self, request: QuestionRequest, text: str) -> list[list[str]]:
        """A typed message answers every question not picked from a menu yet."""
        draft = self._drafts.get(request.request_id, {})
        return [draft.get(i, [text]) for i in range(len(request.questions))]

    def forget(self, request_id: str) -> None:
        self._drafts.pop(request_id, None)


class ApprovalService:
    def __init__(
        self, permissions: PermissionBroker, questions: QuestionBroker, store: Store, bus: EventBus
    ) -> None:
        self._permissions = permissions
        self._questions = questions
        self._store = store
        self.drafts = QuestionDrafts()
        self._left_over: list[LeftOverPrompt] = []
        bus.add_callback(self._on_event)

    def expire_left_over(self) -> None:
        """Expire the requests a previous run left pending (OpenCode forgot them with it); the
        prompts still showing buttons are kept for `take_left_over`."""
        for row in self._store.pending_requests():
            self._store.resolve_pending(row.request_id, "expired", None, "restart")
            if row.thread_id and row.external_message_id:
                request = _request(row)
                self._left_over.append(LeftOverPrompt(row.thread_id, row.external_message_id, request))

    def take_left_over(self) -> list[LeftOverPrompt]:
        taken, self._left_over = self._left_over, []
        return taken

    def _on_event(self, event: object) -> None:
        if isinstance(event, QuestionResolved):
            self.drafts.forget(event.request.request_id)

    def pending_permissions(self, session_id: str | None = None) -> list[PermissionRequest]:
        return self._permissions.pending(session_id)

    def pending_questions(self, session_id: str | None = None) -> list[QuestionRequest]:
        return self._questions.pending(session_id)

    def question(self, request_id: str) -> QuestionRequest | None:
        return self._questions.get(request_id)

    async def answer_permission(
        self, request_id: str, reply: PermissionReply, *, by: str, origin: str, message: str | None = None
    ) -> AnswerResult:
        with log_context(request_id=request_id):
            return await self._permissions.answer(request_id, reply, by=by, origin=origin, message=message)

    async def answer_question(
        self, request_id: str, answers: list[list[str]], *, by: str, origin: str
    ) -> AnswerResult:
        with log_context(request_id=request_id):
            return await self._questions.answer(request_id, answers, by=by, origin=origin)

    async def reject_question(self, request_id: str, *, by: str, origin: str) -> AnswerResult:
        with log_context(request_id=request_id):
            return await self._questions.reject(request_id, by=by, origin=origin)

    async def answer_typed(self, session_id: str, text: str, *, by: str, origin: str) -> AnswerResult | None:
        """A typed text answers the session's oldest waiting question (see Conversations.answer_waiting)."""
        pending = self._questions.pending(session_id)
        text = text.strip()
        if not pending or not text:
            return None
        request = pending[-1]  # the oldest: pending() lists newest first
        answers = self.drafts.typed(request, text)
        return await self._questions.answer(request.request_id, answers, by=by, origin=origin)

    def pick(self, request_id: str, index: int, labels: Sequence[str]) -> list[list[str]] | None:
        request = self._questions.get(request_id)
        return None if request is None else self.drafts.choose(request, index, labels)

    def prompt_message(self, request_id: str) -> PromptMessage | None:
        row = self._store.get_pending(request_id)
        if row is None or row.external_message_id is None:
            return None
        return PromptMessage(row.thread_id, row.external_message_id)

    def attach_message(self, request_id: str, thread_id: str, external_message_id: str) -> None:
        self._store.set_pending_message(request_id, thread_id, external_message_id)


def _request(row: PendingRow) -> PermissionRequest | QuestionRequest:
    """The request as it was asked, from its stored payload."""
    payload, asked_at = row.payload, row.asked_at.timestamp()
    if row.kind == "question":
        questions = tuple(q for q in payload.get("questions") or () if isinstance(q, dict))
        return QuestionRequest(row.request_id, row.session_id, questions, asked_at)
    return PermissionRequest(
        row.request_id,
        row.session_id,
        str(payload.get("permission") or ""),
        tuple(str(p) for p in payload.get("patterns") or ()),
        tuple(str(p) for p in payload.get("always") or ()),
        dict(payload.get("metadata") or {}),
        asked_at,
    )
