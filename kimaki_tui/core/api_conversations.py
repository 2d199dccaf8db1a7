"""The core's door for conversations: a thread's session as front ends see it (`ConversationView`),
what they may do in it (`Conversations`: prompts, the queue, aborts, the shell), and what it has
cost (`Insight`).

Conversations are keyed by their thread id. Re-exported by `core.api`, the one door.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from kimaki_tui.core.api_requests import AnswerResult
from kimaki_tui.core.events import QueuedItem
from kimaki_tui.core.prompts import PromptInput, SayResult, SubmitResult
from kimaki_tui.core.session_setup import SessionSetup
from kimaki_tui.core.shell import ShellResult
from kimaki_tui.errors import KimakiError
from kimaki_tui.store.records import ThreadOrigin

ConversationState = Literal["idle", "busy", "waiting", "error"]


class UnknownThread(KimakiError, LookupError):
    """A thread with no conversation in this kimaki instance."""


@dataclass(frozen=True, slots=True)
class ConversationView:
    """A conversation right now: which session it shows and what that session is doing.

    `state` is "waiting" while a permission or question waits for a person; `busy` is True while a
    turn runs (also while waiting), since `busy_since`. `tokens`, `model` and `agent` are the last
    turn's.
    """

    thread_id: str
    channel_id: str
    directory: str
    session_id: str | None
    title: str
    state: ConversationState
    busy: bool
    queued: int
    tokens: int
    model: str
    agent: str
    last_activity: float
    origin: str
    busy_since: float | None = None  # when the running turn began (None when not busy)


class Conversations(Protocol):
    """Threads and their sessions: prompts, the queue, aborts. Unknown threads raise UnknownThread."""

    def get(self, thread_id: str) -> ConversationView | None: ...

    def all(self) -> list[ConversationView]: ...

    def for_session(self, session_id: str) -> ConversationView | None: ...

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
        """The thread's conversation, created (bound to `session_id` if given) when new; `setup`
        (permission rules, a parent session) applies to the session it creates."""
        ...

    async def say(self, thread_id: str, prompt: PromptInput) -> SayResult:
        """A message typed in the conversation: it answers the question waiting there, if any
        (`answer_waiting`), else it is submitted as the next prompt."""
        ...

    async def answer_waiting(self, thread_id: str, text: str, *, by: str, origin: str) -> AnswerResult | None:
        """The rule for a message while a question waits: the text answers the oldest waiting
        question (every part not picked from a menu yet). None when no question waits or `text` is
        blank: then the message is a prompt."""
        ...

    async def submit(self, thread_id: str, prompt: PromptInput) -> SubmitResult:
        """A new prompt: sent now when idle, otherwise queued (interrupting the turn by policy)."""
        ...

    async def enqueue(self, thread_id: str, prompt: PromptInput) -> SubmitResult:
        """Queue behind the running turn (held, not refused, while the thread has no session)."""
        ...

    async def note(self, thread_id: str, prompt: PromptInput) -> None:
        """A message not for the agent: it joins the session as context, and no turn runs for it
        (added at once when idle, else with the next prompt)."""
        ...

    async def abort(self, thread_id: str, *, by: str, origin: str) -> bool:
        """Stop the running turn (pending approvals are rejected); True if one was running. Every
        front end is told with a TurnAborted event."""
        ...

    async def rerun(self, thread_id: str, *, by: str, origin: str) -> bool:
        """Stop the running turn and send its prompt again with the preferences now in force
        (a model just chosen); True if a turn was running."""
        ...

    def queue(self, thread_id: str) -> tuple[QueuedItem, ...]: ...

    def remove_queued(self, thread_id: str, item_id: int) -> bool: ...

    def edit_queued_message(self, thread_id: str, external_message_id: str, text: str) -> bool:
        """An edited chat message still queued gets its new text; False when not queued (sent)."""
        ...

    def remove_queued_message(self, thread_id: str, external_message_id: str) -> bool:
        """A deleted chat message still queued leaves the queue; False when not queued."""
        ...

    def move_queued(self, thread_id: str, item_id: int, delta: int) -> None: ...

    def clear_queue(self, thread_id: str) -> int: ...

    async def ensure_session(self, thread_id: str) -> str: ...

    async def shell(self, thread_id: str, command: str, *, timeout: float = ...) -> ShellResult:
        """Run a shell command in the thread's session without the model (the `!` shortcut);
        refused while a turn runs, aborted after `timeout` seconds."""
        ...


@dataclass(frozen=True, slots=True)
class SessionUsage:
    """`context_tokens` is what the conversation occupies now (the last answer's input, cached
    input and output); `cost` and `tokens_total` add up every answer of the session."""

    session_id: str
    context_tokens: int
    context_limit: int | None
    tokens_total: int
    cost: float
    answers: int
    model: str

    @property
    def context_percent(self) -> int | None:
        return round(100 * self.context_tokens / self.context_limit) if self.context_limit else None


class Insight(Protocol):
    """What a conversation has cost, and the recent conversations across projects."""

    async def usage(self, thread_id: str) -> SessionUsage | None: ...

    def recent(self, limit: int = 10) -> list[ConversationView]: ...
