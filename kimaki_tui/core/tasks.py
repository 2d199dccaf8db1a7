"""Scheduled sends as front ends see them: listed, edited, run now and deleted through the shared
database.

A running scheduler (injected by the composition root with `use_timers`) is told about a
deletion so its timer goes at once, and is what runs a task now; without one the row alone
decides (a task is read when due) and nothing can run now.
"""

from __future__ import annotations

from typing import Protocol

from kimaki_tui.errors import KimakiError
from kimaki_tui.store.records import ScheduledTask
from kimaki_tui.store.repo import Store
from kimaki_tui.store.tasks import TaskPayload, TaskTiming


class TaskTimers(Protocol):
    """The scheduler's side: drop a row and its timer; fire a task at once (TaskScheduler)."""

    def delete(self, task_id: int) -> bool: ...

    async def run_now(self, task_id: int) -> str:
        """Fire the task now, whatever its time; "" when it was sent, else why not."""
        ...


class TaskEditError(KimakiError):
    """A task cannot be changed or run as asked; the message says why."""


class TaskService:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._timers: TaskTimers | None = None

    def use_timers(self, timers: TaskTimers | None) -> None:
        self._timers = timers

    def all(self, *, channel_id: str | None = None, all_states: bool = False) -> list[ScheduledTask]:
        return self._store.list_tasks(channel_id=channel_id, all_states=all_states)

    def get(self, task_id: int) -> ScheduledTask | None:
        return self._store.get_task(task_id)

    def add(self, timing: TaskTiming, payload: TaskPayload, *, channel_id: str | None) -> ScheduledTask:
        """Store a new task (a running scheduler picks it up at its next sync)."""
        return self._store.add_task(timing, payload, channel_id=channel_id)

    def delete(self, task_id: int, *, channel_id: str | None = None) -> bool:
        if channel_id is not None and not self._in_channel(task_id, channel_id):
            return False  # a button can outlive its task, or be clicked in another channel
        if self._timers is not None:
            return self._timers.delete(task_id)
        return self._store.delete_task(task_id)

    def edit(self, task_id: int, payload: TaskPayload, timing: TaskTiming | None = None) -> ScheduledTask:
        """Replace what a task sends (and, with `timing`, when: a finished task is scheduled again)."""
        task = self._store.get_task(task_id)
        if task is None:
            raise TaskEditError(f"no task {task_id}", hint="`kimaki task list --all` shows them.")
        if task.status != "scheduled" and timing is None:
            raise TaskEditError(f"task {task_id} is {task.status}: give --send-at to schedule it again")
        if not self._store.update_task(task_id, payload, timing):
            raise TaskEditError(f"task {task_id} is being sent right now; try again in a moment")
        edited = self._store.get_task(task_id)
        assert edited is not None
        return edited

    async def run_now(self, task_id: int, *, channel_id: str | None = None) -> str:
        """Send a task at once (a cron task then keeps its schedule); "" when sent, else why not."""
        if channel_id is not None and not self._in_channel(task_id, channel_id):
            return f"task {task_id} is not one of this channel's"
        if self._timers is None:
            return "tasks run only in a running kimaki"
        return await self._timers.run_now(task_id)

    def _in_channel(self, task_id: int, channel_id: str) -> bool:
        task = self._store.get_task(task_id)
        return task is not None and task.channel_id == channel_id
