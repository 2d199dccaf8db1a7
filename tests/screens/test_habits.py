"""Habits of a daily user: `?` lists the keys, quitting asks while turns run, screenshots land
in the data dir."""

from __future__ import annotations

import logging

from textual.widgets import Static

from kimaki_tui.logs import LOG_FORMAT
from kimaki_tui.screens.app import KimakiApp, QuitConfirm
from kimaki_tui.screens.approvals import ApprovalsScreen
from kimaki_tui.screens.keys import KeysScreen
from kimaki_tui.screens.messages import LogLines
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.widgets.log_view import LogView
from kimaki_tui.screens.widgets.transcript_view import EntryView, TranscriptView
from tests.screens.conftest import SIZE, notifications, plain, settle, until
from tests.screens.scene import build_scene


async def test_question_mark_lists_the_keys_of_the_screen(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        build_scene(scene)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, KeysScreen)
        keys = plain(app.screen.query_one("#keys-table", Static))
        assert "Approve once" in keys and "Allow this request once" in keys and "Deny" in keys
        assert "Dashboard" in keys  # the digits, which the footer leaves to the nav bar
        await pilot.press("escape")
        assert isinstance(app.screen, ApprovalsScreen)


async def test_quitting_asks_while_a_turn_runs(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        build_scene(scene)  # one session busy, three waiting for an answer: four turns
        await settle(pilot)
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, QuitConfirm)
        assert "4 turns are still running" in plain(app.screen.query_one("#question", Static))
        await pilot.press("n")
        assert app.is_running and not isinstance(app.screen, QuitConfirm)
        await pilot.press("ctrl+q", "y")
        await pilot.pause()
        assert not app.is_running


async def test_quitting_when_nothing_runs_does_not_ask(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


async def test_screenshots_go_to_the_data_dir(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        app.deliver_screenshot()  # what the palette's "Screenshot" calls
        folder = scene.data_dir / "screenshots"
        shots = await until(
            pilot, lambda: list(folder.glob("*.svg")) if folder.is_dir() else None, "a screenshot"
        )
        assert shots[0].read_text().startswith("<svg")


async def test_arrows_select_a_transcript_block_and_c_copies_just_it(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        build_scene(scene)
        await settle(pilot)
        await app.open_session("1001")
        await pilot.pause()
        view = app.screen.query_one(TranscriptView)
        blocks = [entry.text for entry in view.query(EntryView)]
        assert len(blocks) >= 2
        await pilot.press("up", "c")
        assert app.clipboard == blocks[-1]
        await pilot.press("up", "c")
        assert app.clipboard == blocks[-2]
        assert "Copied the selected block." in notifications(app)
        assert len(view.query(".entry.-selected")) == 1
        await pilot.press("end", "c")
        assert view.selected is None and all(block in app.clipboard for block in blocks)


async def test_c_copies_the_transcript_and_the_log_lines_on_screen(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        build_scene(scene)
        await settle(pilot)
        await app.open_session("1001")
        await pilot.pause()
        await pilot.press("c")
        assert "wait for the cookie" in app.clipboard and "rm -rf build && make" in app.clipboard
        assert any(n.startswith("Copied the transcript") for n in notifications(app))
        await pilot.press("3")
        record = logging.LogRecord(
            "kimaki_tui.test", logging.WARNING, __file__, 1, "the line to copy", None, None
        )
        app.post_message(LogLines((logging.Formatter(LOG_FORMAT).format(record),)))
        await settle(pilot)
        await pilot.press("c")
        assert "the line to copy" in app.clipboard
        assert any(n.startswith("Copied ") and "log line" in n for n in notifications(app))
        # ↑ selects the bottom line on screen, ↑ again the one above: c copies just that line.
        record = logging.LogRecord("kimaki_tui.test", logging.INFO, __file__, 1, "the last line", None, None)
        app.post_message(LogLines((logging.Formatter(LOG_FORMAT).format(record),)))
        await settle(pilot)
        view = app.screen.query_one(LogView)
        await pilot.press("up", "c")
        assert app.clipboard.endswith("the last line") and "\n" not in app.clipboard
        await pilot.press("up", "c")
        assert app.clipboard.endswith("the line to copy") and "\n" not in app.clipboard
        assert "Copied the selected log line." in notifications(app)
        await pilot.press("end", "c")
        assert view.cursor is None and "the line to copy" in app.clipboard
