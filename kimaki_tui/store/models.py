"""peewee models mapping the tables, and `bind_tables`, which gives each store its own bound copies.

The models here are never bound to a database. A `Store` calls `bind_tables(db)`, which makes a
subclass of every model whose Meta names that store's database, so two stores in one process
(two data dirs, or a store reopened after a restart) never share or swap a connection, and no
global `bind`/`bind_ctx` state exists that another store or thread could change underneath.

The tables themselves are created by `migrations.py` with explicit DDL, not from these classes:
a migration must keep meaning the same thing after the models change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

import peewee

if TYPE_CHECKING:
    _UtcBase = peewee.Field[datetime]
    _OptionalUtcBase = peewee.Field[datetime | None]
else:  # peewee's Field is only generic in the stubs
    _UtcBase = _OptionalUtcBase = peewee.Field


def utc_text(value: datetime) -> str:
    """Fixed-width ISO text in UTC, so text order is time order."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: the store keeps UTC timestamps only")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _from_text(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)


class UtcDateTimeField(_UtcBase):
    """A timezone-aware UTC datetime stored as ISO text (peewee's own field drops the offset)."""

    field_type = "TEXT"

    def db_value(self, value: datetime | None) -> str | None:
        return None if value is None else utc_text(value)

    def python_value(self, value: str | None) -> datetime | None:
        return _from_text(value)


class OptionalUtcDateTimeField(_OptionalUtcBase):
    """Like `UtcDateTimeField`, for a column that may be NULL."""

    field_type = "TEXT"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(null=True, **kwargs)

    def db_value(self, value: datetime | None) -> str | None:
        return None if value is None else utc_text(value)

    def python_value(self, value: str | None) -> datetime | None:
        return _from_text(value)


class _Unbound(peewee.Model):
    class Meta:
        database = None  # see bind_tables


class ProjectModel(_Unbound):
    id = peewee.AutoField()
    directory = peewee.TextField(unique=True)
    created_at = UtcDateTimeField()

    class Meta:
        table_name = "projects"


class ChannelModel(_Unbound):
    channel_id = peewee.TextField(primary_key=True)
    guild_id = peewee.TextField()
    directory = peewee.TextField()
    app_id = peewee.TextField(null=True)
    created_at = UtcDateTimeField()

    class Meta:
        table_name = "channel_projects"


class ThreadModel(_Unbound):
    thread_id = peewee.TextField(primary_key=True)
    session_id = peewee.TextField()
    channel_id = peewee.TextField()
    directory = peewee.TextField()
    source = peewee.TextField()
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "thread_sessions"


class ChannelPrefModel(_Unbound):
    channel_id = peewee.TextField(primary_key=True)
    model = peewee.TextField(null=True)
    agent = peewee.TextField(null=True)
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "channel_prefs"


class SessionPrefModel(_Unbound):
    session_id = peewee.TextField(primary_key=True)
    model = peewee.TextField(null=True)
    agent = peewee.TextField(null=True)
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "session_prefs"


class QueuedModel(_Unbound):
    id = peewee.AutoField()
    thread_id = peewee.TextField()
    session_id = peewee.TextField(null=True)
    position = peewee.IntegerField()
    prompt = peewee.TextField()
    author_id = peewee.TextField()
    author_name = peewee.TextField()
    source = peewee.TextField()
    files_json = peewee.TextField()
    external_message_id = peewee.TextField(null=True)
    created_at = UtcDateTimeField()

    class Meta:
        table_name = "queued_messages"


class PendingModel(_Unbound):
    request_id = peewee.TextField(primary_key=True)
    kind = peewee.TextField()
    session_id = peewee.TextField()
    thread_id = peewee.TextField(null=True)
    payload_json = peewee.TextField()
    asked_at = UtcDateTimeField()
    status = peewee.TextField()
    answer_json = peewee.TextField(null=True)
    answered_by = peewee.TextField(null=True)
    answered_at = OptionalUtcDateTimeField()
    external_channel_id = peewee.TextField(null=True)
    external_message_id = peewee.TextField(null=True)

    class Meta:
        table_name = "pending_requests"


class PostedPartModel(_Unbound):
    part_id = peewee.TextField(primary_key=True)
    thread_id = peewee.TextField()
    session_id = peewee.TextField()
    message_ids_json = peewee.TextField()
    posted_at = UtcDateTimeField()

    class Meta:
        table_name = "posted_parts"


class ScheduledTaskModel(_Unbound):
    id = peewee.AutoField()
    kind = peewee.TextField()
    run_at = OptionalUtcDateTimeField()
    cron_expr = peewee.TextField(null=True)
    timezone = peewee.TextField(null=True)
    next_run_at = OptionalUtcDateTimeField()
    status = peewee.TextField()
    payload_json = peewee.TextField()
    prompt_preview = peewee.TextField()
    channel_id = peewee.TextField(null=True)
    last_error = peewee.TextField(null=True)
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "scheduled_tasks"


class TaskRunModel(_Unbound):
    id = peewee.AutoField()
    task_id = peewee.IntegerField()
    scheduled_for = UtcDateTimeField()
    started_at = UtcDateTimeField()
    status = peewee.TextField()
    message_id = peewee.TextField(null=True)
    thread_id = peewee.TextField(null=True)
    error = peewee.TextField(null=True)

    class Meta:
        table_name = "task_runs"


class GuildModel(_Unbound):
    guild_id = peewee.TextField(primary_key=True)
    name = peewee.TextField()
    owner_id = peewee.TextField(null=True)
    status = peewee.TextField()
    decision = peewee.TextField(null=True)
    decided_by = peewee.TextField(null=True)
    decided_at = OptionalUtcDateTimeField()
    notice_sent_at = OptionalUtcDateTimeField()
    first_seen_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "guilds"


M = TypeVar("M", bound=peewee.Model)


def _bound_copy(model: type[M], database: peewee.SqliteDatabase) -> type[M]:
    # table_name is not inherited by peewee subclasses, so it is restated here.
    meta = type("Meta", (), {"database": database, "table_name": model._meta.table_name})
    copy = type(model.__name__, (model,), {"Meta": meta, "__module__": model.__module__})
    return cast("type[M]", copy)


@dataclass(frozen=True, slots=True)
class Tables:
    """One store's models, each bound to that store's database only."""

    projects: type[ProjectModel]
    channels: type[ChannelModel]
    threads: type[ThreadModel]
    channel_prefs: type[ChannelPrefModel]
    session_prefs: type[SessionPrefModel]
    queue: type[QueuedModel]
    pending: type[PendingModel]
    posted: type[PostedPartModel]
    tasks: type[ScheduledTaskModel]
    task_runs: type[TaskRunModel]
    guilds: type[GuildModel]


def bind_tables(database: peewee.SqliteDatabase) -> Tables:
    return Tables(
        projects=_bound_copy(ProjectModel, database),
        channels=_bound_copy(ChannelModel, database),
        threads=_bound_copy(ThreadModel, database),
        channel_prefs=_bound_copy(ChannelPrefModel, database),
        session_prefs=_bound_copy(SessionPrefModel, database),
        queue=_bound_copy(QueuedModel, database),
        pending=_bound_copy(PendingModel, database),
        posted=_bound_copy(PostedPartModel, database),
        tasks=_bound_copy(ScheduledTaskModel, database),
        task_runs=_bound_copy(TaskRunModel, database),
        guilds=_bound_copy(GuildModel, database),
    )
