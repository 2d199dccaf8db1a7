"""Scheduled sends as front ends see them: listed and deleted through the shared database.

A running scheduler (injected by the composition root with `use_timers`) is told about a
deletion so its timer goes at once; without one the row alone decides (a task is read when due).
"""

from __future__ import annotations

from typing import Protocol

from kimaki_tui.store.records import ScheduledTask
from kimaki_tui.store.repo import Store
from kimaki_tui.store.tasks import TaskPayload, TaskTiming


class TaskTimers(Protocol):
    """The scheduler's side of a deletion: drop the row and the timer (TaskScheduler.delete)."""

    def delete(self, task_id: int) -> bool: ...


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
        if channel_id is not None:
            task = self._store.get_task(task_id)
            if task is None or task.channel_id != channel_id:
                return False  # a button can outlive its task, or be clicked in another channel
        if self._timers is not None:
            return self._timers.delete(task_id)
        return self._store.delete_task(task_id)
