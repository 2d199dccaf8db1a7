"""The Store's scheduled-task slice: `kimaki send --send-at` tasks and a record of each firing.

A task keeps when it runs (once at `run_at`, or on a cron expression in a time zone, with the
next time in `next_run_at`) and what to send as JSON; the scheduler claims a task (scheduled →
running) in one UPDATE before it fires, so two schedulers never fire it twice, then settles it.
The store reads neither the schedule nor the payload: it takes them through two small protocols
(`scheduling.when.Schedule` and `scheduling.request.SendRequest` fit them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Protocol

from kimaki_tui.store import records
from kimaki_tui.store.base import StoreBase, utc_now
from kimaki_tui.store.records import ScheduledTask, TaskRun, TaskRunStatus, TaskStatus

ACTIVE: Final = ("scheduled", "running")
PREVIEW = 120


class TaskTiming(Protocol):
    """When a task runs: `kind` "at" (once, at `run_at`) or "cron"; `first_run` is the next time."""

    @property
    def kind(self) -> str: ...
    @property
    def first_run(self) -> datetime: ...
    @property
    def run_at(self) -> datetime | None: ...
    @property
    def cron(self) -> str | None: ...
    @property
    def timezone(self) -> str | None: ...


class TaskPayload(Protocol):
    """What a task sends: its prompt (for the preview) and its JSON form."""

    @property
    def prompt(self) -> str: ...
    def to_json(self) -> dict[str, Any]: ...


def preview(prompt: str) -> str:
    text = " ".join(prompt.split())
    return text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"


class TasksMixin(StoreBase):
    def add_task(self, timing: TaskTiming, payload: TaskPayload, *, channel_id: str | None) -> ScheduledTask:
        """Store a new task, due at `timing.first_run`."""
        now = utc_now()
        with self._write() as t:
            row = t.tasks.create(
                kind=timing.kind,
                run_at=timing.run_at,
                cron_expr=timing.cron,
                timezone=timing.timezone,
                next_run_at=timing.first_run,
                status="scheduled",
                payload_json=records.dump_json(payload.to_json()),
                prompt_preview=preview(payload.prompt),
                channel_id=channel_id,
                created_at=now,
                updated_at=now,
            )
            # Read back: the record's times come out as the column gives them (in UTC).
            return records.scheduled_task(t.tasks.get_by_id(row.id))

    def get_task(self, task_id: int) -> ScheduledTask | None:
        with self._read() as t:
            row = t.tasks.get_or_none(t.tasks.id == task_id)
            return None if row is None else records.scheduled_task(row)

    def list_tasks(self, *, all_states: bool = False, channel_id: str | None = None) -> list[ScheduledTask]:
        """Active tasks (or every task), soonest first; optionally only one channel's."""
        with self._read() as t:
            query = t.tasks.select().order_by(t.tasks.next_run_at.is_null(), t.tasks.next_run_at, t.tasks.id)
            if not all_states:
                query = query.where(t.tasks.status.in_(ACTIVE))
            if channel_id is not None:
                query = query.where(t.tasks.channel_id == channel_id)
            return [records.scheduled_task(row) for row in query]

    def update_task(self, task_id: int, payload: TaskPayload, timing: TaskTiming | None = None) -> bool:
        """New content for a task not being fired; with `timing` it is (re)scheduled at its first run.
        False when there is no such task or it is running."""
        values: dict[str, Any] = {
            "payload_json": records.dump_json(payload.to_json()),
            "prompt_preview": preview(payload.prompt),
            "updated_at": utc_now(),
        }
        if timing is not None:
            values.update(
                kind=timing.kind,
                run_at=timing.run_at,
                cron_expr=timing.cron,
                timezone=timing.timezone,
                next_run_at=timing.first_run,
                status="scheduled",
                last_error=None,
            )
        with self._write() as t:
            query = t.tasks.update(**values).where((t.tasks.id == task_id) & (t.tasks.status != "running"))
            return bool(query.execute())

    def due_tasks(self, now: datetime) -> list[ScheduledTask]:
        """Scheduled tasks whose next time is at or before `now`, the earliest first."""
        with self._read() as t:
            query = t.tasks.select().where((t.tasks.status == "scheduled") & (t.tasks.next_run_at <= now))
            return [records.scheduled_task(row) for row in query.order_by(t.tasks.next_run_at, t.tasks.id)]

    def delete_task(self, task_id: int) -> bool:
        """Forget a task and its runs; False if there was no such task."""
        with self._write() as t:
            return bool(t.tasks.delete().where(t.tasks.id == task_id).execute())

    def claim_task(self, task_id: int) -> bool:
        """scheduled → running, atomically: False if someone else claimed it or it is gone."""
        with self._write() as t:
            query = t.tasks.update(status="running", updated_at=utc_now()).where(
                (t.tasks.id == task_id) & (t.tasks.status == "scheduled")
            )
            return bool(query.execute())

    def settle_task(
        self,
        task_id: int,
        status: TaskStatus,
        *,
        next_run_at: datetime | None = None,
        error: str | None = None,
    ) -> None:
        """Where a task stands after a run (or a skip): its status, next time and last error."""
        with self._write() as t:
            t.tasks.update(
                status=status, next_run_at=next_run_at, last_error=error, updated_at=utc_now()
            ).where(t.tasks.id == task_id).execute()

    def stuck_tasks(self) -> list[ScheduledTask]:
        """Tasks left "running" by a process that stopped while firing them."""
        with self._read() as t:
            query = t.tasks.select().where(t.tasks.status == "running").order_by(t.tasks.id)
            return [records.scheduled_task(row) for row in query]

    def add_task_run(
        self,
        task_id: int,
        scheduled_for: datetime,
        status: TaskRunStatus,
        *,
        message_id: str | None = None,
        thread_id: str | None = None,
        error: str | None = None,
    ) -> TaskRun:
        """Record one firing of a task (or one it skipped), started now."""
        with self._write() as t:
            row = t.task_runs.create(
                task_id=task_id,
                scheduled_for=scheduled_for,
                started_at=utc_now(),
                status=status,
                message_id=message_id,
                thread_id=thread_id,
                error=error,
            )
            return records.task_run(t.task_runs.get_by_id(row.id))

    def task_runs(self, task_id: int) -> list[TaskRun]:
        with self._read() as t:
            query = t.task_runs.select().where(t.task_runs.task_id == task_id).order_by(t.task_runs.id)
            return [records.task_run(row) for row in query]
