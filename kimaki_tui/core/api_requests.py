"""The core's door for requests waiting for a person: OpenCode's permissions and questions
(`Approvals`) and the agent tools' buttons and uploads (`ToolRequestsApi`), with the values they
hand front ends (an answer's result, where a prompt is shown, prompts a previous run left).

The first answer wins, from any front end. Re-exported by `core.api`, the one door.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from kimaki_tui.core.events import PermissionReply, PermissionRequest, QuestionRequest, ToolRequest

AnswerStatus = Literal["answered", "already_answered", "unknown", "failed"]


@dataclass(frozen=True, slots=True)
class AnswerResult:
    status: AnswerStatus
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "answered"


@dataclass(frozen=True, slots=True)
class PromptMessage:
    """Where a front end shows a permission or question prompt (to edit it once answered)."""

    thread_id: str | None
    external_message_id: str


@dataclass(frozen=True, slots=True)
class LeftOverPrompt:
    """A prompt still showing its buttons for a request a previous run left unanswered (expired
    when this run started): the front end edits it to say so."""

    thread_id: str
    external_message_id: str
    request: PermissionRequest | QuestionRequest


class Approvals(Protocol):
    """Pending permissions and questions, answered from any front end (the first answer wins)."""

    def pending_permissions(self, session_id: str | None = None) -> list[PermissionRequest]: ...

    def pending_questions(self, session_id: str | None = None) -> list[QuestionRequest]: ...

    def question(self, request_id: str) -> QuestionRequest | None: ...

    async def answer_permission(
        self, request_id: str, reply: PermissionReply, *, by: str, origin: str, message: str | None = None
    ) -> AnswerResult: ...

    async def answer_question(
        self, request_id: str, answers: list[list[str]], *, by: str, origin: str
    ) -> AnswerResult: ...

    async def reject_question(self, request_id: str, *, by: str, origin: str) -> AnswerResult: ...

    def pick(self, request_id: str, index: int, labels: Sequence[str]) -> list[list[str]] | None:
        """Record the answer to one part of a question; every part's answer once all are picked."""
        ...

    def prompt_message(self, request_id: str) -> PromptMessage | None: ...

    def attach_message(self, request_id: str, thread_id: str, external_message_id: str) -> None: ...

    def take_left_over(self) -> list[LeftOverPrompt]:
        """The prompts expired at start that a front end still shows (each handed out once)."""
        ...


class ToolRequestsApi(Protocol):
    """The agent's tool requests waiting for a person (buttons, files); the first answer wins."""

    def pending(self, session_id: str | None = None) -> list[ToolRequest]: ...

    def get(self, request_id: str) -> ToolRequest | None: ...

    def attend(self) -> Callable[[], None]:
        """This front end shows and answers requests until the returned callable is called."""
        ...

    def choose(self, request_id: str, label: str, *, by: str, origin: str) -> AnswerResult: ...

    def give_files(self, request_id: str, paths: Sequence[Path], *, by: str, origin: str) -> AnswerResult:
        """Files a front end already saved in the project (the answer to a files request)."""
        ...

    def give_local_files(
        self, request_id: str, typed: Sequence[str], *, by: str, origin: str
    ) -> AnswerResult:
        """Copy files named by local paths into the project's uploads folder, as the answer."""
        ...
