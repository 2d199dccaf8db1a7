"""The one door: everything a front end (the Discord bot, the control center, the CLI) may ask the core.

Front ends are typed against these Protocols and receive the implementation (`core.service.Core`)
from the composition root; they never touch the store, the OpenCode client or the session
registry. What crosses the door are the frozen values of the `api_*` modules, the domain events
(`core.events`), prompts (`core.prompts`) and OpenCode's typed values (`opencode.models`,
`catalog`, `schema`). Conversations are keyed by their thread id (the Discord thread showing a
session). This module is `CoreApi`, the core as front ends see it; the services' Protocols and
values live by area in `api_conversations`, `api_history`, `api_requests`, `api_chat`,
`api_preferences`, `api_projects` and `api_admin`, and are re-exported here: front ends import
them from `core.api`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kimaki_tui.core.api_admin import Guilds, OpenCodeGivenUp, Server, Tasks
from kimaki_tui.core.api_chat import ChatListening, Deliveries, Handled, Posts, Turns
from kimaki_tui.core.api_conversations import (
    Conversations,
    ConversationState,
    ConversationView,
    Insight,
    SessionUsage,
    UnknownThread,
)
from kimaki_tui.core.api_history import (
    External,
    History,
    HistoryError,
    ReplayPart,
    Resume,
    ResumePlan,
    RevertResult,
    UserTurn,
)
from kimaki_tui.core.api_preferences import PreferenceKind, Preferences, PreferenceScope, Routing
from kimaki_tui.core.api_projects import Integrations, Projects, Sandboxes, SandboxRow, Workflows
from kimaki_tui.core.api_requests import (
    AnswerResult,
    AnswerStatus,
    Approvals,
    LeftOverPrompt,
    PromptMessage,
    ToolRequestsApi,
)
from kimaki_tui.core.session_setup import PermissionRule, SessionSetup, SetupError
from kimaki_tui.opencode.catalog import Project as OpenCodeProject
from kimaki_tui.sandbox.api import SandboxGone as SandboxGone  # said in the thread, not as a bug
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

__all__ = [
    "AnswerResult",
    "AnswerStatus",
    "Approvals",
    "ChannelLink",
    "ChatListening",
    "ConversationState",
    "ConversationView",
    "Conversations",
    "CoreApi",
    "Deliveries",
    "Delivery",
    "EventCallback",
    "External",
    "GuildRecord",
    "GuildStatus",
    "Guilds",
    "Handled",
    "History",
    "HistoryError",
    "Insight",
    "Integrations",
    "LeftOverPrompt",
    "NewDelivery",
    "OpenCodeGivenUp",
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
    "Routing",
    "SandboxRow",
    "Sandboxes",
    "ScheduledTask",
    "Server",
    "SessionSetup",
    "SessionUsage",
    "SetupError",
    "Tasks",
    "ThreadOrigin",
    "ToolRequestsApi",
    "Turns",
    "UnknownThread",
    "UserTurn",
    "Workflows",
]

EventCallback = Callable[[object], None]


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
