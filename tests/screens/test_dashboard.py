"""The dashboard: rows per session with live statuses, the approvals badge, the status bar, abort."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from textual.coordinate import Coordinate
from textual.widgets import Static

from kimaki_tui.core.api import ConversationView
from kimaki_tui.core.events import ChatStatus, PermissionAskedEvent, TurnFinished
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.confirm import ConfirmScreen
from kimaki_tui.screens.dashboard import DashboardScreen
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.widgets.session_preview import SessionPreview
from kimaki_tui.screens.widgets.session_table import SessionTable
from tests.core_rig import CoreRig
from tests.screens.conftest import SIZE, plain, settle, until
from tests.screens.scene import build_scene, concrete


def cell(app: KimakiApp, thread: str, column: str) -> str:
    table = app.screen.query_one(SessionTable)
    return str(table.get_cell(thread, column))


def drawn_row(app: KimakiApp, thread: str) -> str:
    """The line the table draws for a thread's session, as the user sees it."""
    table = app.screen.query_one(SessionTable)
    title = str(table.get_cell(thread, "session"))
    lines = ["".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height)]
    return next(line for line in lines if title in line)


async def test_scene_rows_badge_and_summary(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        build_scene(scene)
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        table = app.screen.query_one(SessionTable)
        assert table.row_count == 5
        assert cell(app, "1001", "status") == "◆ waiting for approval"
        assert cell(app, "1002", "status") == "● busy 2m35s"  # the turn has run that long
        assert cell(app, "1005", "status") == "✗ error"
        assert cell(app, "1001", "session") == "Fix the flaky login test"
        assert (cell(app, "1001", "model"), cell(app, "1001", "tokens")) == ("claude-sonnet-4", "18.2k")
        assert cell(app, "1003", "queued") == "2"
        assert cell(app, "1001", "active") == "30s"
        assert app.pending_approvals == 3
        assert table.border_subtitle == "5 sessions · 1 busy · 3 waiting · 1 failed · 2 queued"
        assert "⚠3" in plain(app.screen.query_one("#tabs", Static))


async def test_status_bar_follows_the_bus(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        bus = concrete(scene).bus
        bus.publish(ChatStatus("connecting"))
        bus.publish(ChatStatus("connected", guilds=2, latency_ms=41.6, user="Kimaki#0001"))
        bus.publish(ServerStatus("healthy", port=4567, pid=None))
        await settle(pilot)
        discord = plain(app.screen.query_one("#discord-status", Static))
        opencode = plain(app.screen.query_one("#opencode-status", Static))
        assert discord == "Discord ● connected · Kimaki#0001 · 2 guilds · 42 ms"
        assert opencode == "OpenCode ● healthy · port 4567"
        assert plain(app.screen.query_one("#scheduler-status", Static)) == "Scheduler —"
        assert scene.discord_status.guilds == 2  # the model keeps the latest for others
        bus.publish(ChatStatus("connected", guilds=2, user="Kimaki#0001", public_bot=True))
        await settle(pilot)
        discord = plain(app.screen.query_one("#discord-status", Static))
        assert discord == "Discord ● connected · Kimaki#0001 · 2 guilds · ⚠ public"
        assert "untick" in str(app.screen.query_one("#discord-status", Static).tooltip)
        bus.publish(ChatStatus("failed", detail="Improper token has been passed."))
        await settle(pilot)
        assert "✗ failed · Improper token" in plain(app.screen.query_one("#discord-status", Static))
        bus.publish(ServerStatus("failed", port=4567, detail="OpenCode crashed 5 times within 60 s"))
        await settle(pilot)
        opencode = plain(app.screen.query_one("#opencode-status", Static))
        assert "failed · port 4567 · OpenCode crashed 5 times" in opencode
        [toast] = [n for n in app._notifications if "stopped for good" in n.message]
        assert toast.severity == "error" and "crashed 5 times" in toast.message


async def test_empty_dashboard_says_how_to_start(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#empty").display
        assert not app.screen.query_one(SessionTable).row_count


@pytest.mark.opencode
async def test_statuses_go_busy_waiting_idle_and_abort(
    live: ControlCenterModel, rig: CoreRig, project_dir: Path
) -> None:
    app = KimakiApp(live)
    async with app.run_test(size=SIZE) as pilot:
        thread = rig.thread(project_dir)
        await until(pilot, lambda: app.screen.query_one(SessionTable).row_count == 1, "the new session's row")
        assert cell(app, thread.thread_id, "status") == "○ idle"

        await rig.core.conversations.submit(thread.thread_id, rig.prompt("SLOW:2 a short story"))
        await until(pilot, lambda: cell(app, thread.thread_id, "status").startswith("● busy "), "busy")
        await until(pilot, lambda: cell(app, thread.thread_id, "status") == "○ idle", "idle again", 30)
        assert cell(app, thread.thread_id, "model") == "fake-model"
        assert cell(app, thread.thread_id, "agent") == "build"
        assert cell(app, thread.thread_id, "tokens") != "—"

        await rig.core.conversations.submit(thread.thread_id, rig.prompt("RUN_BASH: echo hi > out.txt"))
        asked = await rig.wait_for(PermissionAskedEvent)
        await until(
            pilot, lambda: cell(app, thread.thread_id, "status") == "◆ waiting for approval", "waiting"
        )
        assert app.pending_approvals == 1
        await rig.core.approvals.answer_permission(
            asked.request.request_id, "once", by="alice", origin="discord"
        )
        await rig.wait_count(TurnFinished, 2)
        await until(pilot, lambda: cell(app, thread.thread_id, "status") == "○ idle", "idle after approval")
        assert app.pending_approvals == 0

        # `x` asks first, then aborts the running turn.
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("SLOW:30 a very long story"))
        await until(pilot, lambda: cell(app, thread.thread_id, "status").startswith("● busy "), "busy again")
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        turns = await rig.wait_count(TurnFinished, 3)
        assert not turns[-1].natural
        await until(pilot, lambda: cell(app, thread.thread_id, "status") == "○ idle", "idle after abort")

        # The activity strip told the story as it went; it shows the newest three lines.
        texts = [line.text for line in app.activity]
        assert any("prompt from" in t and "SLOW:2 a short story" in t for t in texts)
        assert sum("answered in" in t for t in texts) == 2
        assert any("waits for approval: bash echo hi > out.txt" in t for t in texts)
        strip = app.screen.query_one("#activity", Static)
        await until(pilot, lambda: "aborted by" in plain(strip), "the strip to show the abort")
        assert len(plain(strip).splitlines()) == 3


@pytest.mark.opencode
async def test_preview_shows_the_selected_session_and_answers_in_place(
    live: ControlCenterModel, rig: CoreRig, project_dir: Path
) -> None:
    """At 160 columns the preview beside the table shows the selected session's last lines and its
    pending permission; `o` approves it from the dashboard."""
    app = KimakiApp(live)
    async with app.run_test(size=(160, 45)) as pilot:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("RUN_BASH: echo preview > p.txt"))
        await rig.wait_for(PermissionAskedEvent)
        preview = app.screen.query_one(SessionPreview)
        assert preview.display
        await until(pilot, lambda: "o approve once" in preview.render().plain, "the request in the preview")
        text = preview.render().plain
        assert "» RUN_BASH: echo preview > p.txt" in text
        assert "echo preview > p.txt" in text.split("Permission")[-1]
        await pilot.press("o")
        await rig.wait_for(TurnFinished)
        assert (project_dir / "p.txt").read_text() == "preview\n"
        await until(pilot, lambda: "o approve once" not in preview.render().plain, "the request to go")
        await until(pilot, lambda: "Tool said" in preview.render().plain, "the rest of the turn")


async def test_a_status_change_redraws_its_row_without_reading_every_session(
    scene: ControlCenterModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With thousands of sessions, reading every view on each batch of events is too slow."""
    from kimaki_tui.opencode.events import SessionStatus

    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        build_scene(scene)
        await settle(pilot)
        assert cell(app, "1002", "status") == "● busy 2m35s"
        reads: list[int] = []  # reads of every view, other than the app's slow resync clock
        every = scene.core.conversations.all

        def all_views() -> list[ConversationView]:
            if not any(frame.function == "read_state" for frame in inspect.stack()):
                reads.append(1)
            return every()

        monkeypatch.setattr(scene.core.conversations, "all", all_views)
        runtime = concrete(scene).sessions.get("1002")
        assert runtime is not None and runtime.session_id is not None
        runtime.handle_event(SessionStatus("session.status", runtime.session_id, "idle"))
        runtime.handle_event(SessionStatus("session.status", runtime.session_id, "busy"))
        runtime.handle_event(SessionStatus("session.status", runtime.session_id, "idle"))
        await settle(pilot)
        assert cell(app, "1002", "status") == "○ idle"
        assert "○ idle" in drawn_row(app, "1002") and "busy" not in drawn_row(app, "1002")
        summary = app.screen.query_one(SessionTable).border_subtitle
        assert summary == "5 sessions · 3 waiting · 1 failed · 2 queued"
        assert reads == []


async def test_rows_that_come_after_cell_updates_are_drawn_in_place(scene: ControlCenterModel) -> None:
    """The table keeps its row order between cell updates; a session that arrives later must
    still get its own line, and every line drawn must belong to the row at that place."""
    from kimaki_tui.opencode.events import SessionStatus

    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        build_scene(scene)
        await settle(pilot)
        core = concrete(scene)
        runtime = core.sessions.get("1002")
        assert runtime is not None and runtime.session_id is not None
        runtime.handle_event(SessionStatus("session.status", runtime.session_id, "idle"))
        await settle(pilot)
        channel, directory = "901", str(Path(runtime.directory))
        core.store.link_channel(channel, "800", directory)
        newest = core.sessions.open("1009", channel, directory, "ses_new09")
        newest.title = "A session that came later"
        app.read_state()
        await settle(pilot)
        table = app.screen.query_one(SessionTable)
        assert table.row_count == 6
        assert "A session that came later" in drawn_row(app, "1009")
        # Every line drawn belongs to the row at that place (the cached offsets followed the rows).
        order = [table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value for row in range(6)]
        lines = ["".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height)]
        titles = [str(table.get_cell(str(thread), "session")) for thread in order]
        assert [next(i for i, line in enumerate(lines) if t in line) for t in titles] == sorted(
            next(i for i, line in enumerate(lines) if t in line) for t in titles
        )
