"""Approvals: answering permissions and questions from the keys, live removal, late answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, OptionList, Static

from kimaki_tui.core.events import (
    PartCompleted,
    PermissionAskedEvent,
    PermissionResolved,
    QuestionAskedEvent,
    QuestionResolved,
    TurnFinished,
)
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.approvals import ApprovalsScreen
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.widgets.question_form import QuestionForm
from kimaki_tui.screens.widgets.request_detail import PermissionDetail
from tests.core_rig import CoreRig
from tests.screens.conftest import SIZE, notifications, plain, settle, until
from tests.screens.scene import build_scene, concrete


def rows(app: KimakiApp) -> list[str]:
    table = app.screen.query_one("#requests", DataTable)
    return [str(row.key.value) for row in table.ordered_rows]


def footer_keys(app: KimakiApp) -> set[str]:
    return {binding.key for (_, binding, enabled, _) in app.screen.active_bindings.values() if enabled}


async def test_scene_lists_newest_first_with_details(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        build_scene(scene)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, ApprovalsScreen)
        assert rows(app) == ["per_edit01", "que_site01", "per_demo01"]
        table = app.screen.query_one("#requests", DataTable)
        assert str(table.get_cell("per_edit01", "what")) == "src/config.py"
        detail = app.screen.query_one(PermissionDetail)
        body = plain(detail.query_one(".request-body", Static))
        assert "read_settings" in body and "/home/user/demo/src/config.py" in body
        assert "every edit request in this project" in body
        assert {"o", "a", "d"} <= footer_keys(app)

        await pilot.press("down")  # the question: no approve keys, Enter answers
        assert app.screen.query(QuestionForm) and not app.screen.query(PermissionDetail)
        keys = footer_keys(app)
        assert "o" not in keys and "a" not in keys and "d" in keys and "enter" in keys
        await pilot.press("enter")
        assert isinstance(app.focused, OptionList)


async def test_failed_and_late_answers_are_notified(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        build_scene(scene)
        await pilot.press("2")
        await settle(pilot)
        # OpenCode is unreachable in this scene: the answer fails and the request stays.
        await pilot.press("o")
        await until(pilot, lambda: any("Could not reach OpenCode" in n for n in notifications(app)), "error")
        assert rows(app)[0] == "per_edit01"

        # Answered elsewhere just before the key press (the bridge has not delivered it yet).
        app.bridge.interval = 60.0
        concrete(scene).permissions.replied_elsewhere("per_edit01", "once")
        await pilot.press("o")
        await until(pilot, lambda: any("already answered" in n for n in notifications(app)), "late answer")
        assert rows(app) == ["que_site01", "per_demo01"]


@pytest.mark.opencode
async def test_approve_once_from_the_keys(live: ControlCenterModel, rig: CoreRig, project_dir: Path) -> None:
    app = KimakiApp(live)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("RUN_BASH: echo hi > out.txt"))
        asked = await rig.wait_for(PermissionAskedEvent)
        await until(pilot, lambda: rows(app) == [asked.request.request_id], "the request's row")
        assert "echo hi > out.txt" in plain(app.screen.query_one(".request-body", Static))
        await pilot.press("o")
        resolved = await rig.wait_for(PermissionResolved)
        assert (resolved.reply, resolved.by, resolved.origin) == ("once", "control center", "control-center")
        await rig.wait_for(TurnFinished)
        assert (project_dir / "out.txt").exists()
        await until(pilot, lambda: rows(app) == [], "the row to go")
        assert app.screen.query_one("#nothing").display
        assert app.pending_approvals == 0


@pytest.mark.opencode
async def test_answer_given_elsewhere_removes_the_row(
    live: ControlCenterModel, rig: CoreRig, project_dir: Path
) -> None:
    app = KimakiApp(live)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("RUN_BASH: echo no > no.txt"))
        asked = await rig.wait_for(PermissionAskedEvent)
        await until(pilot, lambda: rows(app) == [asked.request.request_id], "the request's row")
        # As the Discord bot would: the core call with the clicking user's name.
        result = await rig.core.approvals.answer_permission(
            asked.request.request_id, "reject", by="bob", origin="discord"
        )
        assert result.ok
        await until(pilot, lambda: rows(app) == [], "the row to go")
        await rig.wait_for(TurnFinished)
        assert not (project_dir / "no.txt").exists()


@pytest.mark.opencode
async def test_question_answered_from_the_keys(
    live: ControlCenterModel, rig: CoreRig, project_dir: Path
) -> None:
    app = KimakiApp(live)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("ASK_QUESTION please"))
        asked = await rig.wait_for(QuestionAskedEvent)
        await until(pilot, lambda: rows(app) == [asked.request.request_id], "the question's row")
        await pilot.press("enter", "down", "down", "enter")  # into the options, pick Blue
        resolved = await rig.wait_for(QuestionResolved)
        assert resolved.answers == (("Blue",),) and resolved.by == "control center"
        await rig.wait_for(TurnFinished)
        answer = [e.text for e in rig.of_type(PartCompleted) if e.kind == "text"][-1]
        assert "Blue" in answer
        await until(pilot, lambda: rows(app) == [], "the row to go")
