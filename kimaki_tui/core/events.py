"""Domain events: what the core tells every front end (Discord bot, control center, CLI).

They are plain frozen dataclasses with no OpenCode or Discord types inside, so a renderer
can turn them into text and a test can compare them. `session_id` is always set, and so is
`thread_id` (the conversation the session belongs to), stamped by the session runtime before it
publishes: a front end finds the place to show an event without asking the core. `origin` names
the front end an action came from ("discord", "control-center", "cli"…, or "opencode" and
"timeout" for resolutions nobody typed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

PartKind = Literal["text", "tool", "reasoning"]
SessionState = Literal["idle", "busy", "retry", "waiting", "error"]
PermissionReply = Literal["once", "always", "reject"]


# `by` of the requests that died with OpenCode when it restarted (they expire unanswered).
BY_SERVER_RESTART = "server restart"


@dataclass(frozen=True, slots=True)
class DomainEvent:
    session_id: str
    # The conversation (a Discord thread) showing the session; "" only before the core stamps it.
    thread_id: str = field(default="", kw_only=True)


@dataclass(frozen=True, slots=True)
class PartCompleted(DomainEvent):
    """A finished part of the assistant's answer, posted once, in order.

    For tools: `tool` is the tool name, `title` OpenCode's title, `status` "completed" or
    "error", `error` the error text, `input` the tool input, `guard_flags` None unless kimaki's
    injection guard wrapped the output (then how many lines of it read like instructions).
    For text/reasoning: `text`.
    """

    part_id: str
    message_id: str
    kind: PartKind
    text: str = ""
    tool: str = ""
    title: str = ""
    status: str = ""
    error: str = ""
    input: Mapping[str, Any] = field(default_factory=dict)
    output: str = ""
    guard_flags: int | None = None


@dataclass(frozen=True, slots=True)
class ToolStarted(DomainEvent):
    """A tool call began running. The control center shows it live; Discord waits for the end,
    except for a subagent task, which is announced when it starts. `title` is OpenCode's, if any."""

    part_id: str
    tool: str
    input: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""


@dataclass(frozen=True, slots=True)
class TextDelta(DomainEvent):
    """A streamed token for the live view. `kind` is "reasoning" for thinking tokens."""

    part_id: str
    delta: str
    kind: PartKind = "text"


@dataclass(frozen=True, slots=True)
class StatusChanged(DomainEvent):
    state: SessionState
    detail: str = ""


@dataclass(frozen=True, slots=True)
class TurnFinished(DomainEvent):
    """A turn ended. `natural` is False when it was aborted or failed (no footer then)."""

    natural: bool
    duration_s: float
    tokens_total: int
    tokens_input: int
    tokens_output: int
    context_tokens: int
    context_limit: int | None
    provider_id: str
    model_id: str
    agent: str
    directory: str = ""
    branch: str = ""

    @property
    def context_percent(self) -> int | None:
        if not self.context_limit:
            return None
        return round(100 * self.context_tokens / self.context_limit)


@dataclass(frozen=True, slots=True)
class SessionFailed(DomainEvent):
    """OpenCode reported an error for the session (aborts are not reported as failures)."""

    name: str
    message: str


@dataclass(frozen=True, slots=True)
class SandboxResuming(DomainEvent):
    """The thread's sandbox was paused and starts again now (its next call waits for it)."""


@dataclass(frozen=True, slots=True)
class TitleChanged(DomainEvent):
    title: str


@dataclass(frozen=True, slots=True)
class PermissionRequest:
    """A pending approval, front-end neutral. `kind` is OpenCode's permission name (bash, edit…)."""

    request_id: str
    session_id: str
    kind: str
    patterns: tuple[str, ...]
    always: tuple[str, ...]
    metadata: Mapping[str, Any]
    asked_at: float

    @property
    def summary(self) -> str:
        """One line saying what is asked: the command, the file or the patterns."""
        meta = self.metadata
        for key in ("command", "filepath", "parentDir"):
            value = meta.get(key)
            if isinstance(value, str) and value:
                return value
        return ", ".join(self.patterns) or self.kind


@dataclass(frozen=True, slots=True)
class QuestionRequest:
    request_id: str
    session_id: str
    questions: tuple[Mapping[str, Any], ...]
    asked_at: float


@dataclass(frozen=True, slots=True)
class PermissionAskedEvent(DomainEvent):
    request: PermissionRequest


@dataclass(frozen=True, slots=True)
class PermissionResolved(DomainEvent):
    """`by` names who answered (a user, "control center", "timeout", "opencode")."""

    request: PermissionRequest
    reply: PermissionReply
    by: str
    origin: str
    expired: bool = False


@dataclass(frozen=True, slots=True)
class QuestionAskedEvent(DomainEvent):
    request: QuestionRequest


@dataclass(frozen=True, slots=True)
class ToolRequest:
    """The agent waits for a person through one of kimaki's tools: a click on one of `labels`
    (`kind` "buttons") or up to `max_files` files saved in `directory`/uploads (`kind` "files")."""

    request_id: str
    session_id: str
    thread_id: str
    kind: Literal["buttons", "files"]
    prompt: str
    labels: tuple[str, ...]
    max_files: int
    directory: str
    asked_at: float


@dataclass(frozen=True, slots=True)
class ToolRequestAsked(DomainEvent):
    request: ToolRequest


@dataclass(frozen=True, slots=True)
class ToolRequestResolved(DomainEvent):
    """`label` (buttons) or `paths` (files) when someone answered; `outcome` says how it ended:
    "answered", "expired" (nobody answered in time) or "cancelled" (the agent stopped waiting)."""

    request: ToolRequest
    outcome: Literal["answered", "expired", "cancelled"]
    by: str
    origin: str
    label: str | None = None
    paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuestionResolved(DomainEvent):
    """`answers` is None when the question was rejected, dismissed or expired."""

    request: QuestionRequest
    answers: tuple[tuple[str, ...], ...] | None
    by: str
    origin: str
    expired: bool = False


@dataclass(frozen=True, slots=True)
class QueuedItem:
    item_id: int
    prompt: str
    author: str
    origin: str


@dataclass(frozen=True, slots=True)
class QueueChanged(DomainEvent):
    """The thread's queue changed (`session_id` is "" while the thread has no session yet)."""

    items: tuple[QueuedItem, ...]


@dataclass(frozen=True, slots=True)
class PromptDispatched(DomainEvent):
    """A prompt left the local queue (or went straight) to OpenCode."""

    prompt: str
    author: str
    origin: str
    from_queue: bool


@dataclass(frozen=True, slots=True)
class TurnAborted(DomainEvent):
    """Someone stopped a running turn (`by`, from `origin`); every front end shows it in the thread."""

    by: str
    origin: str


@dataclass(frozen=True, slots=True)
class ChatStatus:
    """The chat connection (Discord) as the front end reports it (for the dashboard and /readyz)."""

    state: Literal["connecting", "connected", "disconnected", "failed", "stopped"]
    guilds: int = 0
    latency_ms: float | None = None
    detail: str = ""
    user: str = ""
    # The application is Public (anyone can add the bot to their own server); None until known.
    public_bot: bool | None = None


@dataclass(frozen=True, slots=True)
class GuildAccessChanged:
    """A Discord server's status changed: "allowed" (served), "pending" or "denied" (ignored)."""

    guild_id: str
    status: Literal["pending", "allowed", "denied"]
    name: str = ""


@dataclass(frozen=True, slots=True)
class ProjectLinksChanged:
    """A project channel of this Discord server was linked or unlinked (its slash commands follow
    the workflows of the server's projects)."""

    guild_id: str


@dataclass(frozen=True, slots=True)
class ExternalSessionFound:
    """A session started outside kimaki runs in a linked project (core.external): the bot makes it a
    thread in `channel_id` and calls `core.external.attach`."""

    session_id: str
    directory: str
    channel_id: str
    title: str
    prompt: str  # the text of its latest user message ("" when it has none yet)
