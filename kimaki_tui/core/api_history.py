"""The core's door for a conversation's history and reopening sessions: messages, undo/redo, fork,
compact and share (`History`), resuming a project's session in a new thread (`Resume`), and
attaching sessions started outside kimaki (`External`).

`HistoryError` says, to the user as is, why a history command cannot be done. Re-exported by
`core.api`, the one door.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kimaki_tui.core.api_conversations import ConversationView
from kimaki_tui.core.events import ExternalSessionFound
from kimaki_tui.errors import KimakiError
from kimaki_tui.opencode.models import Message
from kimaki_tui.opencode.schema import ModelRef, SessionInfo
from kimaki_tui.store.records import ThreadOrigin


class HistoryError(KimakiError):
    """A history command cannot be done; the message is meant for the user as is."""


@dataclass(frozen=True, slots=True)
class ReplayPart:
    """A text the assistant wrote earlier, shown again when a session reopens in a new thread."""

    part_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ResumePlan:
    """A session about to open in a new thread (resumed or forked) and the answers to show there."""

    info: SessionInfo
    directory: str
    parts: tuple[ReplayPart, ...]

    @property
    def session_id(self) -> str:
        return self.info.id


@dataclass(frozen=True, slots=True)
class UserTurn:
    message_id: str
    text: str


@dataclass(frozen=True, slots=True)
class RevertResult:
    """What undo/redo did: `done` False means there was nothing to do. `diff` is OpenCode's."""

    done: bool
    diff: str = ""
    finished: bool = False  # redo reached the end (the session is whole again)


class History(Protocol):
    """A conversation's history: its messages, undo/redo, fork, compact, share (HistoryError says
    why one cannot be done)."""

    async def messages(self, thread_id: str, *, limit: int | None = None) -> list[Message]: ...

    async def fork_choices(self, thread_id: str) -> list[UserTurn]: ...

    async def fork(self, thread_id: str, message_id: str | None) -> ResumePlan:
        """A new session with the messages before `message_id`, with its last answer to show."""
        ...

    async def fork_aside(self, thread_id: str) -> ResumePlan:
        """A copy of the whole session for a side question (`btw`): nothing to replay."""
        ...

    async def fork_into(self, thread_id: str, directory: str) -> ResumePlan:
        """A copy of the whole session whose next turns run in `directory` (a worktree of the same
        project): /new-worktree from a thread. HistoryError when this OpenCode cannot move it."""
        ...

    async def undo(self, thread_id: str, *, by: str, origin: str) -> RevertResult: ...

    async def redo(self, thread_id: str) -> RevertResult: ...

    async def compact(self, thread_id: str) -> ModelRef: ...

    async def share(self, thread_id: str) -> str: ...


class Resume(Protocol):
    """Reopening a project's OpenCode session in a new thread."""

    async def candidates(self, directory: str, query: str = "", limit: int = 25) -> list[SessionInfo]:
        """The project's sessions no thread shows, newest first, matching `query` (title or id)."""
        ...

    def bound_thread(self, session_id: str) -> str | None: ...

    async def load(self, session_id: str, directory: str) -> ResumePlan:
        """The session and its last answers (raises opencode.errors.SessionNotFound)."""
        ...

    def bind(
        self, thread_id: str, channel_id: str, plan: ResumePlan, *, origin: ThreadOrigin
    ) -> ConversationView: ...


class External(Protocol):
    """Sessions started outside kimaki in linked projects (core.external has the rules)."""

    async def attach(self, thread_id: str, found: ExternalSessionFound) -> ConversationView | None:
        """The thread made for `found` shows its session from now on (None: another already does)."""
        ...
