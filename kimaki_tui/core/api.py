"""The one door: everything a front end (the Discord bot, the control center, the CLI) may ask the core.

Front ends are typed against these Protocols and receive the implementation (`core.service.Core`)
from the composition root; they never touch the store, the OpenCode client or the session
registry. What crosses the door are the frozen values below, the domain events (`core.events`),
prompts (`core.prompts`) and OpenCode's typed values (`opencode.models`, `catalog`, `schema`).
Conversations are keyed by their thread id (the Discord thread showing a session).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from kimaki_tui.core.events import (
    ExternalSessionFound,
    PermissionReply,
    PermissionRequest,
    QuestionRequest,
    QueuedItem,
    ToolRequest,
)
from kimaki_tui.core.prompts import PromptInput, SayResult, SubmitResult
from kimaki_tui.core.routing import ThreadMessage
from kimaki_tui.core.session_setup import PermissionRule, SessionSetup, SetupError
from kimaki_tui.core.shell import ShellResult
from kimaki_tui.errors import KimakiError
from kimaki_tui.opencode.catalog import (
    Agent,
    AuthMethod,
    Command,
    McpServer,
    OAuthStart,
    ProviderCatalog,
    ProviderEntry,
)
from kimaki_tui.opencode.catalog import Project as OpenCodeProject
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.opencode.models import Message
from kimaki_tui.opencode.schema import ModelRef, SessionInfo
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.sandbox.api import SandboxGone as SandboxGone  # said in the thread, not as a bug
from kimaki_tui.settings.tree import SandboxMode, TurnRouting, Verbosity
from kimaki_tui.store.db import DatabaseBusy as DatabaseBusy  # what front ends retry on
from kimaki_tui.store.outbox import Delivery, NewDelivery
from kimaki_tui.store.records import (
    ChannelLink,
    GuildRecord,
    GuildStatus,
    Project,
    ScheduledTask,
    ThreadOrigin,
)
from kimaki_tui.store.retry import until_stored as until_stored  # what front ends retry with
from kimaki_tui.store.retry import until_stored_async as until_stored_async

if TYPE_CHECKING:  # the store's task slice pulls in peewee, which `kimaki --help` must not load
    from kimaki_tui.core.workflows import CommandPlan
    from kimaki_tui.store.tasks import TaskPayload, TaskTiming

__all__ = [
    "AnswerResult",
    "Approvals",
    "ChannelLink",
    "ConversationView",
    "Conversations",
    "CoreApi",
    "Deliveries",
    "Delivery",
    "GuildRecord",
    "GuildStatus",
    "Guilds",
    "History",
    "HistoryError",
    "Integrations",
    "LeftOverPrompt",
    "NewDelivery",
    "OpenCodeProject",
    "PermissionRule",
    "Posts",
    "PreferenceKind",
    "PreferenceScope",
    "Preferences",
    "Project",
    "Projects",
    "PromptMessage",
    "ReplayPart",
    "Resume",
    "ResumePlan",
    "RevertResult",
    "ScheduledTask",
    "Server",
    "SessionSetup",
    "SetupError",
    "Tasks",
    "ThreadOrigin",
    "Turns",
    "UnknownThread",
    "UserTurn",
    "Workflows",
]

AnswerStatus = Literal["answered", "already_answered", "unknown", "failed"]
PreferenceKind = Literal["model", "agent"]
# "global": the default of every channel (for models; a session's or channel's own choice wins).
PreferenceScope = Literal["session", "channel", "global"]
ConversationState = Literal["idle", "busy", "waiting", "error"]
EventCallback = Callable[[object], None]


class UnknownThread(KimakiError, LookupError):
    """A thread with no conversation in this kimaki instance."""


class OpenCodeGivenUp(OpenCodeError):
    """OpenCode kept crashing and kimaki stopped restarting it: nothing can be answered until then."""

    hint = "Restart it with /restart-opencode-server (or restart kimaki); kimaki's log says why it crashed."

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "OpenCode was given up on after it kept crashing, so kimaki cannot answer right now"
            + (f" ({detail[:300]})." if detail else ".")
        )


class HistoryError(KimakiError):
    """A history command cannot be done; the message is meant for the user as is."""


# ---- values ---------------------------------------------------------------------------------------


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


# ---- services -------------------------------------------------------------------------------------


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


class Posts(Protocol):
    """Which finished parts a front end already posted (kept across restarts: posted once)."""

    def is_posted(self, part_id: str) -> bool: ...

    def mark_posted(
        self, part_id: str, thread_id: str, session_id: str, external_ids: Iterable[str]
    ) -> None: ...


class Deliveries(Protocol):
    """A thread's posts, persisted and in order until the chat service took them (core.outbox)."""

    def post(self, thread_id: str, deliveries: Sequence[NewDelivery]) -> list[Delivery]: ...

    def post_part(
        self, thread_id: str, part_id: str, session_id: str, deliveries: Sequence[NewDelivery]
    ) -> list[Delivery]: ...

    def waiting(self, thread_id: str) -> list[Delivery]: ...

    def threads_waiting(self) -> list[str]: ...

    def prompt_message_id(self, request_id: str) -> str | None: ...

    def notice_message_id(self, thread_id: str, key: str) -> str | None: ...

    def delivered(self, delivery: Delivery, external_message_id: str | None) -> None: ...

    def undeliverable(self, delivery: Delivery, reason: str) -> None: ...

    def failed_attempt(self, delivery: Delivery, attempt: int) -> float: ...

    def prune(self) -> int: ...


class ChatListening(Protocol):
    """A chat front end tells the core it posts what turns produce (core.delivery)."""

    def listening(self) -> None: ...

    def stopped(self) -> None: ...


class Turns(Protocol):
    """Turns the previous run of kimaki left unfinished (a crash, a kill, a restart)."""

    def take_interrupted(self) -> list[str]:
        """Their threads, each handed out once."""
        ...


class Handled(Protocol):
    """Incoming messages handled per channel or thread (core.catchup has the rule): claimed before
    handling, marked when done, so none is answered twice and a restart reads from the watermark."""

    def watermark(self, channel_id: str) -> int | None: ...

    def claim(self, channel_id: str, message_id: int) -> bool:
        """False when the message is being or was handled already."""
        ...

    def handled(self, channel_id: str, message_id: int) -> None: ...

    def start_from(self, channel_id: str, message_id: int) -> None:
        """A channel without a watermark: count everything up to `message_id` as handled."""
        ...


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


class Projects(Protocol):
    """Project folders and the channels linked to them (one link per channel)."""

    def link(self, channel_id: str, guild_id: str, directory: str, app_id: str | None = None) -> None: ...

    def unlink(self, channel_id: str) -> bool: ...

    def directory_of(self, channel_id: str) -> str | None: ...

    def links(self, guild_id: str | None = None) -> list[ChannelLink]: ...

    def links_for(self, directory: str) -> list[ChannelLink]: ...

    def add(self, directory: str) -> str:
        """Register a folder as a project without a channel; returns its resolved path."""
        ...

    def forget(self, directory: str) -> bool: ...

    def known(self) -> list[Project]: ...

    async def opencode_projects(self) -> list[OpenCodeProject]:
        """The projects OpenCode knows (its recent worktrees)."""
        ...

    async def create(self, projects_dir: str | Path, name: str) -> Path:
        """A new folder under `projects_dir` (git init'ed); raises core.projects.ProjectNameError."""
        ...


class Preferences(Protocol):
    """Which model and agent prompts use: per session, else per channel, else OpenCode's default."""

    async def providers(self, directory: str) -> ProviderCatalog: ...

    async def agents(self, directory: str) -> list[Agent]: ...

    def current(
        self, kind: PreferenceKind, *, channel_id: str, thread_id: str | None = None
    ) -> str | None: ...

    async def choose(
        self,
        kind: PreferenceKind,
        value: str,
        scope: PreferenceScope,
        *,
        channel_id: str,
        thread_id: str | None = None,
    ) -> PreferenceScope:
        """Store the choice; "session" applies to the thread's session (created if needed) and falls
        back to the channel outside a conversation; "global" (models) also clears the channel's own.
        Returns the scope that was used."""
        ...

    def clear_model(self, scope: PreferenceScope, *, channel_id: str, thread_id: str | None = None) -> None:
        """Forget the model chosen at `scope` (the next one down the cascade applies again)."""
        ...

    def variant(self, *, channel_id: str, thread_id: str | None = None) -> str | None:
        """The thinking level (model variant) the next prompt there asks for (None: the model's own)."""
        ...

    async def variants(
        self, directory: str, *, channel_id: str, thread_id: str | None = None
    ) -> tuple[str, ...]:
        """The thinking levels the model the next prompt there uses offers (none: it has none)."""
        ...

    async def choose_variant(
        self, variant: str | None, scope: PreferenceScope, *, channel_id: str, thread_id: str | None = None
    ) -> PreferenceScope:
        """Store the thinking level at `scope` (None: the model's own level, which wins over a wider
        scope's), scopes as for `choose`; returns the scope used."""
        ...

    def mention_mode(self, channel_id: str, *, default: bool) -> bool:
        """Whether only mentions (and `!`) start threads in the channel: its own choice, else `default`."""
        ...

    def set_mention_mode(self, channel_id: str, on: bool | None) -> None:
        """Set the channel's mention mode, persisted; None forgets it (the global default applies)."""
        ...

    def worktrees(self, channel_id: str, *, default: bool) -> bool:
        """Whether the channel's new threads each get a git worktree: its own choice, else `default`."""
        ...

    def set_worktrees(self, channel_id: str, on: bool | None) -> None:
        """Set the channel's automatic worktrees, persisted; None forgets it (the global default applies)."""
        ...

    def verbosity(self, channel_id: str, *, default: Verbosity) -> Verbosity:
        """Which tool lines the channel's threads show: its own choice, else `default`."""
        ...

    def set_verbosity(self, channel_id: str, value: Verbosity | None) -> None:
        """Set the channel's verbosity, persisted (running sessions follow at once); None forgets it."""
        ...


class Routing(Protocol):
    """Turn routing (`core.turn_routing`): whether a thread message gets an answer."""

    def mode(self, channel_id: str | None, *, default: TurnRouting) -> TurnRouting:
        """The channel's own /turn-routing choice, else `default`."""
        ...

    def set_mode(self, channel_id: str, mode: TurnRouting | None) -> None:
        """Set the channel's turn routing, persisted; None forgets it (the global default applies)."""
        ...

    async def needs_answer(
        self, message: ThreadMessage, *, channel_id: str | None, directory: str, default: TurnRouting
    ) -> bool:
        """False when the message is only context for the session (by the channel's mode). Never
        raises: when the model cannot decide, the message is answered."""
        ...


@dataclass(frozen=True, slots=True)
class SandboxRow:
    """One sandboxed thread as the control center lists it: `state` is running, paused or
    destroyed."""

    key: str
    thread_id: str
    directory: str
    state: str


class Sandboxes(Protocol):
    """Where a channel's new threads run: the shared OpenCode server, or a sandbox each."""

    @property
    def available(self) -> bool:
        """Whether this run can sandbox threads at all (started with --sandbox other than none)."""
        ...

    @property
    def backend(self) -> str | None:
        """The one backend this run sandboxes threads with ("bwrap", "podman"), or None."""
        ...

    def mode(self, channel_id: str) -> SandboxMode:
        """The channel's own sandbox mode, else the global `--sandbox`."""
        ...

    def set_mode(self, channel_id: str, mode: SandboxMode | None) -> None:
        """Set the channel's sandbox mode for new threads, persisted; None forgets it."""
        ...

    async def place(self, thread_id: str, channel_id: str, directory: str) -> str:
        """The directory a new thread runs in: the project's, or its sandbox's new worktree."""
        ...

    async def rows(self) -> list[SandboxRow]:
        """Every sandboxed thread of this run and the state of its sandbox."""
        ...

    def activity(self, thread_id: str) -> None:
        """Someone is writing in the thread (Discord's typing signal): a paused sandbox begins
        resuming at once, so the message finds it running; nothing for other threads."""
        ...


class Tasks(Protocol):
    """Scheduled sends (`kimaki send --send-at`), read from the shared database each time."""

    def all(self, *, channel_id: str | None = None, all_states: bool = False) -> list[ScheduledTask]: ...

    def get(self, task_id: int) -> ScheduledTask | None: ...

    def delete(self, task_id: int, *, channel_id: str | None = None) -> bool:
        """Delete a task (only if it belongs to `channel_id`, when given); its timer goes too."""
        ...

    def edit(self, task_id: int, payload: TaskPayload, timing: TaskTiming | None = None) -> ScheduledTask:
        """Replace what a task sends and (with `timing`) when; raises TaskEditError."""
        ...

    async def run_now(self, task_id: int, *, channel_id: str | None = None) -> str:
        """Send a task at once through the running scheduler; "" when sent, else why not."""
        ...


class Server(Protocol):
    """The OpenCode server kimaki runs."""

    @property
    def status(self) -> ServerStatus: ...

    @property
    def can_restart(self) -> bool: ...

    async def restart(self) -> None:
        """Restart it and return once healthy (running turns end as failed)."""
        ...


class Guilds(Protocol):
    """Which Discord servers are served (kimaki_tui.core.guilds has the rule)."""

    @property
    def operators(self) -> frozenset[str]: ...

    def set_operators(self, user_ids: Iterable[str]) -> None: ...

    def allowed(self, guild_id: str | int | None) -> bool: ...

    def status(self, guild_id: str | int) -> GuildStatus | None: ...

    def records(self) -> list[GuildRecord]: ...

    def pending(self) -> list[GuildRecord]: ...

    def seen(self, guild_id: str, name: str, owner_id: str | None) -> GuildRecord: ...

    def allow(self, guild_id: str, *, by: str) -> GuildRecord: ...

    def deny(self, guild_id: str, *, by: str) -> GuildRecord: ...

    def claim_notice(self, guild_id: str) -> bool: ...

    def release_notice(self, guild_id: str) -> None: ...

    def reload(self) -> list[GuildRecord]: ...


class Workflows(Protocol):
    """The user's OpenCode agents, commands, MCP prompts and skills, offered as slash commands.
    A prompt whose text starts with `/name` of an OpenCode command runs that command."""

    async def commands(self, directory: str) -> list[Command]:
        """OpenCode's commands in a project (its own, the project's, MCP prompts, skills)."""
        ...

    async def plan(self, directories: Iterable[str], *, taken: Collection[str]) -> CommandPlan:
        """The slash commands for the workflows of these projects, next to the built-ins `taken`."""
        ...

    async def known_command(self, directory: str, name: str) -> Command | None: ...


class Integrations(Protocol):
    """A project's MCP servers and the AI providers' credentials, which OpenCode keeps."""

    async def mcp_servers(self, directory: str) -> list[McpServer]: ...

    async def set_mcp_connected(self, directory: str, name: str, connected: bool) -> list[McpServer]:
        """Connect or disconnect one MCP server; the project's servers afterwards."""
        ...

    async def providers(self, directory: str) -> list[ProviderEntry]: ...

    async def login_methods(self, directory: str, provider_id: str) -> list[AuthMethod]:
        """The provider's OAuth methods (their index names them) and an API key."""
        ...

    async def set_api_key(self, provider_id: str, key: str) -> None:
        """Save a key in OpenCode's credentials (never logged); LoginError when empty."""
        ...

    async def start_oauth(self, directory: str, provider_id: str, method: int) -> OAuthStart: ...

    async def finish_oauth(self, directory: str, provider_id: str, method: int, code: str | None) -> bool:
        """Complete an OAuth login (with the pasted code for a "code" method)."""
        ...


class CoreApi(Protocol):
    """The core as front ends see it: named services, and the event bus."""

    @property
    def conversations(self) -> Conversations: ...

    @property
    def approvals(self) -> Approvals: ...

    @property
    def tool_requests(self) -> ToolRequestsApi: ...

    @property
    def posts(self) -> Posts: ...

    @property
    def outbox(self) -> Deliveries: ...

    @property
    def turns(self) -> Turns: ...

    @property
    def chat_delivery(self) -> ChatListening: ...

    @property
    def handled(self) -> Handled: ...

    @property
    def history(self) -> History: ...

    @property
    def resume(self) -> Resume: ...

    @property
    def projects(self) -> Projects: ...

    @property
    def preferences(self) -> Preferences: ...

    @property
    def tasks(self) -> Tasks: ...

    @property
    def sandboxes(self) -> Sandboxes: ...

    @property
    def routing(self) -> Routing: ...

    @property
    def server(self) -> Server: ...

    @property
    def guilds(self) -> Guilds: ...

    @property
    def insight(self) -> Insight: ...

    @property
    def workflows(self) -> Workflows: ...

    @property
    def integrations(self) -> Integrations: ...

    @property
    def external(self) -> External: ...

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Call `callback(event)` for every event published from now on; returns an unsubscribe."""
        ...

    def publish(self, event: object) -> None:
        """Announce a front end's own status (ChatStatus) to the others."""
        ...
