"""`TaskStore`: scheduled tasks and their runs in the kimaki database (tables of migration 3).

It opens its own connection to the same SQLite file as the main Store (WAL lets the CLI, the
bot and the control center share it) and hands out frozen records, never peewee rows.
State of a task: scheduled → running (claimed while it fires) → scheduled again (cron) or
done / missed / failed (one-shot).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, Self, cast

import peewee

from kimaki_tui.scheduling.request import SendRequest
from kimaki_tui.scheduling.when import Schedule
from kimaki_tui.store import migrations
from kimaki_tui.store.db import database_error
from kimaki_tui.store.models import OptionalUtcDateTimeField, UtcDateTimeField

TaskStatus = Literal["scheduled", "running", "done", "missed", "failed"]
RunStatus = Literal["posted", "failed", "missed"]
ACTIVE: Final = ("scheduled", "running")
PREVIEW = 120


@dataclass(frozen=True, slots=True)
class ScheduledTask:
    id: int
    kind: str
    run_at: datetime | None
    cron: str | None
    timezone: str | None
    next_run_at: datetime | None
    status: str
    request: SendRequest
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


class _TaskModel(peewee.Model):
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


class _RunModel(peewee.Model):
    id = peewee.AutoField()
    task_id = peewee.IntegerField()
    scheduled_for = UtcDateTimeField()
    started_at = UtcDateTimeField()
    status = peewee.TextField()
    message_id = peewee.TextField(null=True)
    thread_id = peewee.TextField(null=True)
    error = peewee.TextField(null=True)


def _bind(model: type[peewee.Model], database: peewee.SqliteDatabase, table: str) -> Any:
    # A subclass per store: no global bind state shared between stores or threads.
    meta = type("Meta", (), {"database": database, "table_name": table})
    return type(model.__name__, (model,), {"Meta": meta, "__module__": model.__module__})


def _now() -> datetime:
    return datetime.now(UTC)


def preview(prompt: str) -> str:
    text = " ".join(prompt.split())
    return text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"


class TaskStore:
    def __init__(self, database: peewee.SqliteDatabase) -> None:
        self._db = database
        self._tasks: type[_TaskModel] = _bind(_TaskModel, database, "scheduled_tasks")
        self._runs: type[_RunModel] = _bind(_RunModel, database, "task_runs")

    @classmethod
    def open(cls, path: str | Path) -> Self:
        """Open (and migrate, if needed) the kimaki database at `path`."""
        return cls(migrations.open_migrated(path))

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _read(self) -> Iterator[None]:
        """Queries inside leave peewee's errors as StoreError (materialize results inside)."""
        try:
            yield
        except peewee.PeeweeException as exc:
            raise database_error(exc, str(self._db.database)) from exc

    @contextmanager
    def _write(self) -> Iterator[None]:
        with self._read(), self._db.atomic():
            yield

    # -- tasks ------------------------------------------------------------------------------------

    def add(self, schedule: Schedule, request: SendRequest, *, channel_id: str | None) -> ScheduledTask:
        now = _now()
        with self._write():
            task_id = self._tasks.insert(
                kind=schedule.kind,
                run_at=schedule.run_at,
                cron_expr=schedule.cron,
                timezone=schedule.timezone,
                next_run_at=schedule.first_run,
                status="scheduled",
                payload_json=json.dumps(request.to_json(), ensure_ascii=False),
                prompt_preview=preview(request.prompt),
                channel_id=channel_id,
                created_at=now,
                updated_at=now,
            ).execute()
        found = self.get(int(task_id))
        assert found is not None
        return found

    def get(self, task_id: int) -> ScheduledTask | None:
        with self._read():
            row = self._tasks.get_or_none(self._tasks.id == task_id)
            return None if row is None else _task(row)

    def list_tasks(self, *, all_states: bool = False, channel_id: str | None = None) -> list[ScheduledTask]:
        """Active tasks (or every task), soonest first."""
        t = self._tasks
        query = t.select().order_by(t.next_run_at.is_null(), t.next_run_at, t.id)
        if not all_states:
            query = query.where(t.status.in_(ACTIVE))
        if channel_id is not None:
            query = query.where(t.channel_id == channel_id)
        with self._read():
            return [_task(row) for row in query]

    def due(self, now: datetime) -> list[ScheduledTask]:
        t = self._tasks
        query = t.select().where((t.status == "scheduled") & (t.next_run_at <= now)).order_by(t.next_run_at)
        with self._read():
            return [_task(row) for row in query]

    def delete(self, task_id: int) -> bool:
        with self._write():
            return bool(self._tasks.delete().where(self._tasks.id == task_id).execute())

    def claim(self, task_id: int) -> bool:
        """scheduled → running, atomically: False if someone else claimed it or it is gone."""
        t = self._tasks
        with self._write():
            changed = (
                t.update(status="running", updated_at=_now())
                .where((t.id == task_id) & (t.status == "scheduled"))
                .execute()
            )
        return bool(changed)

    def settle(
        self,
        task_id: int,
        status: TaskStatus,
        *,
        next_run_at: datetime | None = None,
        error: str | None = None,
    ) -> None:
        """Where a task stands after a run (or a skip): its status, next time and last error."""
        t = self._tasks
        with self._write():
            t.update(status=status, next_run_at=next_run_at, last_error=error, updated_at=_now()).where(
                t.id == task_id
            ).execute()

    def stuck(self) -> list[ScheduledTask]:
        """Tasks left "running" by a process that stopped while posting."""
        t = self._tasks
        with self._read():
            return [_task(row) for row in t.select().where(t.status == "running")]

    # -- runs -------------------------------------------------------------------------------------

    def add_run(
        self,
        task_id: int,
        scheduled_for: datetime,
        status: RunStatus,
        *,
        message_id: str | None = None,
        thread_id: str | None = None,
        error: str | None = None,
    ) -> int:
        with self._write():
            return int(
                self._runs.insert(
                    task_id=task_id,
                    scheduled_for=scheduled_for,
                    started_at=_now(),
                    status=status,
                    message_id=message_id,
                    thread_id=thread_id,
                    error=error,
                ).execute()
            )

    def runs(self, task_id: int) -> list[TaskRun]:
        r = self._runs
        with self._read():
            return [_run(row) for row in r.select().where(r.task_id == task_id).order_by(r.id)]


def _task(row: _TaskModel) -> ScheduledTask:
    return ScheduledTask(
        id=row.id,
        kind=row.kind,
        run_at=row.run_at,
        cron=row.cron_expr,
        timezone=row.timezone,
        next_run_at=row.next_run_at,
        status=row.status,
        request=SendRequest.from_json(cast("dict[str, Any]", json.loads(row.payload_json))),
        prompt_preview=row.prompt_preview,
        channel_id=row.channel_id,
        last_error=row.last_error,
        created_at=row.created_at,
    )


def _run(row: _RunModel) -> TaskRun:
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
