"""The control center's one state: what the core holds now, as values the screens watch.

`read_requests` and `affects` say how a batch of core events changes the state the app keeps
(`KimakiApp.sessions`, `.requests`, `.queues`); the app re-reads only the parts a batch touches,
and screens declare what they show by watching those reactives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from kimaki_tui.core.api import ConversationView, CoreApi
from kimaki_tui.core.events import (
    ChatStatus,
    DomainEvent,
    PartCompleted,
    PermissionAskedEvent,
    PermissionRequest,
    PermissionResolved,
    QuestionAskedEvent,
    QuestionRequest,
    QuestionResolved,
    QueuedItem,
    TextDelta,
    ToolRequest,
    ToolRequestAsked,
    ToolRequestResolved,
    ToolStarted,
)
from kimaki_tui.opencode.status import ServerStatus

if TYPE_CHECKING:
    from kimaki_tui.core.api import ScheduledTask
    from kimaki_tui.screens.activity import ActivityLine

Request = PermissionRequest | QuestionRequest | ToolRequest
APPROVAL_EVENTS = (
    PermissionAskedEvent,
    PermissionResolved,
    QuestionAskedEvent,
    QuestionResolved,
    ToolRequestAsked,
    ToolRequestResolved,
)
# Streamed output changes only the transcript (and the age, which the dashboard's clock moves).
_TRANSCRIPT_ONLY = (TextDelta, PartCompleted, ToolStarted)


def read_requests(core: CoreApi) -> tuple[Request, ...]:
    """Every pending permission, question and agent tool request, newest first."""
    approvals = core.approvals
    pending: list[Request] = [*approvals.pending_permissions(), *approvals.pending_questions()]
    pending += core.tool_requests.pending()
    pending.sort(key=lambda r: r.asked_at, reverse=True)
    return tuple(pending)


def affects(events: Iterable[object]) -> tuple[bool, bool]:
    """(sessions changed, requests changed) for a batch of core events."""
    sessions = requests = False
    for event in events:
        if isinstance(event, APPROVAL_EVENTS):
            requests = True
        if isinstance(event, DomainEvent) and not isinstance(event, _TRANSCRIPT_ONLY):
            sessions = True
    return sessions, requests


@dataclass(frozen=True, slots=True)
class ProjectRow:
    """A project as the Projects screen lists it: one row per linked channel, or one for a project
    without a channel (`channel_id` empty). Names are Discord's when the bot knows them."""

    directory: str
    channel_id: str = ""
    channel_name: str | None = None
    guild_id: str = ""
    guild_name: str | None = None


ChannelNamer = Callable[[str], str | None]
"""A channel's name from its id (the bot's cache), None when unknown."""


def read_projects(core: CoreApi, channel_name: ChannelNamer | None = None) -> tuple[ProjectRow, ...]:
    """The linked channels first, then the projects that have none."""
    guilds = {record.guild_id: record.name for record in core.guilds.records()}
    rows = [
        ProjectRow(
            link.directory,
            link.channel_id,
            channel_name(link.channel_id) if channel_name else None,
            link.guild_id,
            guilds.get(link.guild_id),
        )
        for link in core.projects.links()
    ]
    linked = {row.directory for row in rows}
    rows += [ProjectRow(p.directory) for p in core.projects.known() if p.directory not in linked]
    return tuple(rows)


def read_tasks(core: CoreApi) -> tuple[ScheduledTask, ...]:
    """Every scheduled task, finished ones included (the Tasks screen filters)."""
    return tuple(core.tasks.all(all_states=True))


def touched_threads(events: Iterable[object]) -> set[str]:
    """The threads whose sessions a batch of core events concerns."""
    return {e.thread_id for e in events if isinstance(e, DomainEvent) and e.thread_id}


def refreshed(
    sessions: tuple[ConversationView, ...], thread_ids: set[str], core: CoreApi
) -> tuple[ConversationView, ...]:
    """`sessions` with the views of `thread_ids` read again (every view, when one of them came
    or went). Reading all views costs O(sessions) per batch: too much with thousands of them."""
    conversations = core.conversations
    fresh = {thread_id: conversations.get(thread_id) for thread_id in thread_ids}
    shown = {view.thread_id for view in sessions}
    if any(view is None or thread_id not in shown for thread_id, view in fresh.items()):
        return tuple(conversations.all())
    return tuple(fresh.get(view.thread_id) or view for view in sessions)


class AppState(Protocol):
    """The state as screens read it (the app's reactives; screens watch them by these names)."""

    sessions: tuple[ConversationView, ...]
    requests: tuple[Request, ...]
    queues: Mapping[str, tuple[QueuedItem, ...]]
    server_status: ServerStatus
    discord_status: ChatStatus
    scheduler_status: str | None
    pending_approvals: int
    projects: tuple[ProjectRow, ...]
    tasks: tuple[ScheduledTask, ...]
    activity: tuple[ActivityLine, ...]

    def read_projects(self) -> None:
        """Re-read the projects now (after an action that changed them)."""

    def read_state(self) -> None:
        """Re-read the whole state now (after an action that changed it)."""
