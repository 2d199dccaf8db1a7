"""What the store hands out: frozen dataclasses built from rows, so callers never touch peewee.

All chat (Discord) and OpenCode ids are strings (snowflakes included, as the core's events carry
them); every timestamp is an aware UTC datetime. `origin` is the front end a thread or a queued
prompt came from (the column is called `source`).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, cast, get_args

from kimaki_tui.store.models import (
    ChannelModel,
    GuildModel,
    PendingModel,
    PostedPartModel,
    ProjectModel,
    ScheduledTaskModel,
    TaskRunModel,
)

ThreadOrigin = Literal["discord", "cli", "resume", "fork", "control-center", "external"]
PendingKind = Literal["permission", "question"]
PendingStatus = Literal["pending", "answered", "expired"]
GuildStatus = Literal["pending", "allowed", "denied"]
GuildDecision = Literal["allowed", "denied"]
# A scheduled task: scheduled → running (claimed while it fires) → scheduled again (cron) or
# done / missed / failed (one-shot). A run records each firing (or skipped firing).
TaskStatus = Literal["scheduled", "running", "done", "missed", "failed"]
TaskRunStatus = Literal["posted", "failed", "missed", "skipped"]
THREAD_ORIGINS: Final = frozenset(get_args(ThreadOrigin))
GUILD_DECISIONS: Final = frozenset(get_args(GuildDecision))
PENDING_KINDS: Final = frozenset(get_args(PendingKind))


class Unset(enum.Enum):
    """Marks an argument that was not given, so that None can mean "clear this value"."""

    UNSET = enum.auto()


UNSET: Final = Unset.UNSET


@dataclass(frozen=True, slots=True)
class Project:
    directory: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChannelLink:
    channel_id: str
    guild_id: str
    directory: str
    app_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ThreadSession:
    thread_id: str
    session_id: str
    channel_id: str
    directory: str
    origin: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Prefs:
    """A channel's or session's choice; None means "not chosen here" (fall back further)."""

    model: str | None = None
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class QueuedRow:
    id: int
    thread_id: str
    session_id: str | None
    position: int
    prompt: str
    author_id: str
    author_name: str
    origin: str
    files: tuple[Mapping[str, Any], ...]
    external_message_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PendingRow:
    """A permission or question request; `payload` is OpenCode's raw request, `answer` any JSON."""

    request_id: str
    kind: str
    session_id: str
    thread_id: str | None
    payload: Mapping[str, Any]
    asked_at: datetime
    status: str
    answer: Any
    answered_by: str | None
    answered_at: datetime | None
    external_channel_id: str | None
    external_message_id: str | None


@dataclass(frozen=True, slots=True)
class PostedPart:
    part_id: str
    thread_id: str
    session_id: str
    message_ids: tuple[str, ...]
    posted_at: datetime


@dataclass(frozen=True, slots=True)
class ScheduledTask:
    """A scheduled send; `payload` is what to send (JSON), read by `scheduling.request`."""

    id: int
    kind: str
    run_at: datetime | None
    cron: str | None
    timezone: str | None
    next_run_at: datetime | None
    status: str
    payload: Mapping[str, Any]
    prompt_preview: str
    channel_id: str | None
    last_error: str | None
    created_at: datetime

    @property
    def schedule_text(self) -> str:
        return f"cron {self.cron} ({self.timezone})" if self.kind == "cron" else "once"


@dataclass(frozen=True, slots=True)
class TaskRun:
    id: int
    task_id: int
    scheduled_for: datetime
    started_at: datetime
    status: str
    message_id: str | None
    thread_id: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class GuildRecord:
    """A Discord server the bot is (or was) in. `status` is what kimaki last decided; `decision` the
    operator's explicit allow/deny, None when the status follows who owns the server."""

    guild_id: str
    name: str
    owner_id: str | None
    status: GuildStatus
    decision: GuildDecision | None
    decided_by: str | None
    decided_at: datetime | None
    notice_sent_at: datetime | None
    first_seen_at: datetime
    updated_at: datetime


def dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def project(row: ProjectModel) -> Project:
    return Project(directory=row.directory, created_at=row.created_at)


def channel(row: ChannelModel) -> ChannelLink:
    return ChannelLink(
        channel_id=row.channel_id,
        guild_id=row.guild_id,
        directory=row.directory,
        app_id=row.app_id,
        created_at=row.created_at,
    )


def pending(row: PendingModel) -> PendingRow:
    return PendingRow(
        request_id=row.request_id,
        kind=row.kind,
        session_id=row.session_id,
        thread_id=row.thread_id,
        payload=json.loads(row.payload_json),
        asked_at=row.asked_at,
        status=row.status,
        answer=None if row.answer_json is None else json.loads(row.answer_json),
        answered_by=row.answered_by,
        answered_at=row.answered_at,
        external_channel_id=row.external_channel_id,
        external_message_id=row.external_message_id,
    )


def posted(row: PostedPartModel) -> PostedPart:
    return PostedPart(
        part_id=row.part_id,
        thread_id=row.thread_id,
        session_id=row.session_id,
        message_ids=tuple(json.loads(row.message_ids_json)),
        posted_at=row.posted_at,
    )


def scheduled_task(row: ScheduledTaskModel) -> ScheduledTask:
    return ScheduledTask(
        id=row.id,
        kind=row.kind,
        run_at=row.run_at,
        cron=row.cron_expr,
        timezone=row.timezone,
        next_run_at=row.next_run_at,
        status=row.status,
        payload=json.loads(row.payload_json),
        prompt_preview=row.prompt_preview,
        channel_id=row.channel_id,
        last_error=row.last_error,
        created_at=row.created_at,
    )


def task_run(row: TaskRunModel) -> TaskRun:
    return TaskRun(
        id=row.id,
        task_id=row.task_id,
        scheduled_for=row.scheduled_for,
        started_at=row.started_at,
        status=row.status,
        message_id=row.message_id,
        thread_id=row.thread_id,
        error=row.error,
    )


def guild(row: GuildModel) -> GuildRecord:
    return GuildRecord(
        guild_id=row.guild_id,
        name=row.name,
        owner_id=row.owner_id,
        status=cast("GuildStatus", row.status),
        decision=cast("GuildDecision | None", row.decision),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        notice_sent_at=row.notice_sent_at,
        first_seen_at=row.first_seen_at,
        updated_at=row.updated_at,
    )
