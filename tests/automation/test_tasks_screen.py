"""The control center's Tasks screen (key 5) and the dashboard's scheduler status, with Pilot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from kimaki_tui.scheduling.request import PostedStarter, SendRequest
from kimaki_tui.scheduling.scheduler import TaskScheduler
from kimaki_tui.scheduling.when import parse_when
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.tasks import TasksScreen
from kimaki_tui.store.repo import Store
from tests.screens.scene import concrete, offline_model

SIZE = (140, 36)


class NeverSubmits:
    async def submit_task(self, request: SendRequest) -> PostedStarter:
        raise AssertionError("nothing is due in these tests")


@pytest.fixture
async def model(tmp_path: Path) -> AsyncIterator[ControlCenterModel]:
    model = offline_model(tmp_path)
    yield model
    await concrete(model).close()
    concrete(model).store.close()


def add(store: Store, when: str, prompt: str) -> int:
    schedule = parse_when(when, now=datetime.now(UTC), timezone="UTC")
    return store.add_task(schedule, SendRequest("channel", "900", prompt), channel_id="900").id


def rows(app: KimakiApp) -> list[list[str]]:
    table = app.screen.query_one("#tasks", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_tasks_screen_lists_and_deletes_through_the_scheduler(model: ControlCenterModel) -> None:
    store = concrete(model).store
    scheduler = TaskScheduler(store, NeverSubmits())
    await scheduler.start(online=True)
    concrete(model).tasks.use_timers(scheduler)  # as the composition root does
    # As the root does (root/tui.py): the dashboard shows the status the scheduler reports on each change.
    scheduler.on_change.append(lambda: setattr(model, "scheduler_status", scheduler.status_text()))
    try:
        later = add(store, "2099-01-01T09:00:00Z", "write the yearly report")
        soon = add(store, "*/30 * * * *", "check the build")
        await scheduler.sync()
        app = KimakiApp(model)
        async with app.run_test(size=SIZE) as pilot:
            status = app.screen.query_one("#scheduler-status", Static)
            assert "running · 2 tasks" in str(status.render())
            await pilot.press("5")
            assert isinstance(app.screen, TasksScreen)
            listed = rows(app)
            assert [row[0] for row in listed] == [str(soon), str(later)]
            assert listed[0][1] == "scheduled" and listed[0][3] == "cron */30 * * * * (UTC)"
            assert listed[1][5] == "write the yearly report"

            await pilot.press("x", "n")  # cancelled
            assert len(rows(app)) == 2
            await pilot.press("x", "y")
            await pilot.pause()
            assert [row[0] for row in rows(app)] == [str(later)]
            assert store.get_task(soon) is None and scheduler.next_job_time(soon) is None
            assert scheduler.next_job_time(later) is not None
            await pilot.press("1")
            await pilot.pause()
            assert "running · 1 task ·" in str(status.render())
    finally:
        await scheduler.stop()


async def test_tasks_screen_without_a_scheduler_reads_the_database(model: ControlCenterModel) -> None:
    # Another process (the CLI) writes to the same file through its own connection.
    store = Store.open(concrete(model).store.path)
    try:
        app = KimakiApp(model)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("5")
            assert rows(app) == []
            assert app.screen.query_one("#no-tasks").display
            # Added by another process (the CLI): the screen shows it when the app re-reads its
            # state (on its clock, every few seconds).
            task = add(store, "2099-01-01T09:00:00Z", "from the cli")
            store.settle_task(task, "done")
            assert isinstance(app.screen, TasksScreen)
            app.read_state()
            assert rows(app) == []  # finished tasks are hidden
            await pilot.press("a")
            assert [row[1] for row in rows(app)] == ["done"]
            await pilot.press("delete", "y")
            await pilot.pause()
            assert rows(app) == [] and store.get_task(task) is None
    finally:
        store.close()


class RecordsSubmits:
    def __init__(self) -> None:
        self.sent: list[SendRequest] = []

    async def submit_task(self, request: SendRequest) -> PostedStarter:
        self.sent.append(request)
        return PostedStarter(request.target_id, "1", "1")


async def test_run_now_from_the_tasks_screen_sends_through_the_scheduler(model: ControlCenterModel) -> None:
    store = concrete(model).store
    submitter = RecordsSubmits()
    scheduler = TaskScheduler(store, submitter)
    await scheduler.start(online=True)
    concrete(model).tasks.use_timers(scheduler)
    try:
        task = add(store, "2099-01-01T09:00:00Z", "write the yearly report")
        app = KimakiApp(model)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("5", "r")
            await pilot.pause()
            assert [r.prompt for r in submitter.sent] == ["write the yearly report"]
            assert [r.status for r in store.task_runs(task)] == ["posted"]
            assert rows(app) == []  # a one-shot task is done once sent
    finally:
        await scheduler.stop()
