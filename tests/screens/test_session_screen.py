"""The session screen: live transcript, prompts from the terminal, abort, queue reorder/remove."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from textual.widgets import Static

from kimaki_tui.core.events import PartCompleted, PromptDispatched, TextDelta, TurnFinished
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.session import SessionScreen
from kimaki_tui.screens.transcript import Entry
from kimaki_tui.screens.widgets.queue_table import QueueTable
from kimaki_tui.screens.widgets.transcript_view import EntryView, TranscriptView
from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text
from tests.core_rig import CoreRig
from tests.screens.conftest import SIZE, plain, settle, until
from tests.screens.scene import build_scene


def shown(app: KimakiApp) -> list[tuple[str, str]]:
    """(kind, text) of every transcript block on screen."""
    return [(view.signature[0], plain(view)) for view in app.screen.query(EntryView)]


def entries(app: KimakiApp) -> list[Entry]:
    screen = app.screen
    assert isinstance(screen, SessionScreen)
    view = screen.conversation
    return screen.book.entries(view.session_id if view else None)


async def test_scene_transcript_header_and_queue(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        build_scene(scene)
        await settle(pilot)
        await pilot.press("enter")  # the first row: the demo session
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen) and app.screen.thread_id == "1001"
        kinds = [kind for kind, _ in shown(app)]
        assert kinds == ["user", "tool", "text", "footer", "user", "tool", "notice"]
        texts = dict(enumerate(text for _, text in shown(app)))
        assert texts[0].startswith("Fix the flaky login test") and "alice · discord" in texts[0]
        assert texts[1] == "┣ bash pytest tests/test_login.py -q"
        assert "wait for the cookie" in texts[2]
        assert texts[3] == "demo · 8.4s · claude-sonnet-4 · build"
        assert texts[5].endswith("running…")
        assert texts[6] == "⚠ Permission needed — bash: rm -rf build && make"
        header = plain(app.screen.query_one("#session-header", Static))
        assert "Fix the flaky login test" in header and "waiting for approval" in header
        assert "thinking" not in header
        # A thinking level chosen for the channel (/model-variant) shows with the model.
        await scene.core.preferences.choose_variant("high", "channel", channel_id="901", thread_id="1001")
        await pilot.press("escape", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen) and app.screen.thread_id == "1001"
        assert "· thinking high" in plain(app.screen.query_one("#session-header", Static))
        await pilot.press("escape")
        await pilot.press("escape", "down", "down", "enter")  # the site session has two queued
        table = app.screen.query_one(QueueTable)
        assert [str(table.get_row_at(i)[1]) for i in range(table.row_count)] == [
            "Use the darker blue for links",
            "Then update the screenshots",
        ]


@pytest.mark.opencode
async def test_prompt_from_the_terminal_streams_the_answer(
    live: ControlCenterModel, rig: CoreRig, project_dir: Path
) -> None:
    app = KimakiApp(live)
    async with app.run_test(size=SIZE) as pilot:
        thread = rig.thread(project_dir)
        await app.open_session(thread.thread_id)
        await pilot.press("m", *"SLOW:2 tell me about the terminal", "enter")
        dispatched = await rig.wait_for(PromptDispatched)
        assert (dispatched.author, dispatched.origin) == ("control center", "control-center")
        await rig.wait_for(TextDelta)
        # While it streams, the answer is one growing block that is not done yet.
        streaming = await until(
            pilot, lambda: [e for e in entries(app) if e.kind == "text" and not e.done], "stream"
        )
        assert streaming[0].text
        await rig.wait_for(TurnFinished)
        await until(pilot, lambda: any(kind == "footer" for kind, _ in shown(app)), "the footer")
        kinds = [kind for kind, _ in shown(app)]
        assert kinds[0] == "user" and "text" in kinds and kinds[-1] == "footer"
        texts = [text for kind, text in shown(app) if kind == "text"]
        assert texts == [e.text.strip() for e in rig.of_type(PartCompleted) if e.kind == "text"]
        assert texts[0].startswith("tick 0 tick 1")
        footer = next(text for kind, text in shown(app) if kind == "footer")
        assert "fake-model" in footer and "build" in footer


@pytest.mark.opencode
async def test_history_loads_for_an_older_session(
    live: ControlCenterModel, rig: CoreRig, project_dir: Path
) -> None:
    thread = rig.thread(project_dir)
    await rig.core.conversations.submit(thread.thread_id, rig.prompt("REPLY: from before the app"))
    await rig.wait_for(TurnFinished)
    app = KimakiApp(live)
    async with app.run_test(size=SIZE) as pilot:
        await app.open_session(thread.thread_id)
        await until(pilot, lambda: len(shown(app)) >= 2, "the loaded history")
        assert shown(app)[:2] == [
            ("user", "REPLY: from before the app\nearlier"),
            ("text", "from before the app"),
        ]


@pytest.mark.opencode
async def test_queue_reorder_and_remove_then_drain(
    live: ControlCenterModel, rig: CoreRig, project_dir: Path, scripted_model: ScriptedModel
) -> None:
    marker = uuid.uuid4().hex[:8]
    app = KimakiApp(live)
    async with app.run_test(size=SIZE) as pilot:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt(f"SLOW:30 {marker} first"))
        await rig.wait_for(TextDelta)
        for word in ("one", "two", "three"):
            await rig.core.conversations.enqueue(thread.thread_id, rig.prompt(f"{marker} {word}"))
        await app.open_session(thread.thread_id)
        table = app.screen.query_one(QueueTable)
        await until(pilot, lambda: table.row_count == 3, "three queued")
        table.focus()
        await pilot.press("down", "down")  # the last row: "three"
        await pilot.press("K")
        await until(pilot, lambda: [i.prompt for i in thread.queue()][1] == f"{marker} three", "moved up")
        await pilot.press("K")
        await until(
            pilot, lambda: next(i.prompt for i in thread.queue()) == f"{marker} three", "moved to the top"
        )
        assert table.cursor_row == 0  # the cursor followed the moved prompt
        await pilot.press("down", "x")  # remove "one"
        await until(pilot, lambda: len(thread.queue()) == 2, "removed")
        await until(pilot, lambda: table.row_count == 2, "the table to follow")
        await pilot.press("J")  # "three" goes back down below "two"
        await until(pilot, lambda: next(i.prompt for i in thread.queue()) == f"{marker} two", "moved down")
        await pilot.press("ctrl+b")  # abort: the queue drains in the new order
        await rig.wait_count(TurnFinished, 3, timeout=60)
    seen = [
        latest_user_text(body.get("messages", []))
        for body in scripted_model.requests
        if body.get("tools") and marker in latest_user_text(body.get("messages", []))
    ]
    ordered = list(dict.fromkeys(seen))
    assert ordered == [f"SLOW:30 {marker} first", f"{marker} two", f"{marker} three"]


@pytest.mark.opencode
async def test_transcript_keeps_following_after_abort_with_queued_prompts(
    live: ControlCenterModel, rig: CoreRig, project_dir: Path
) -> None:
    """Ctrl+B with prompts queued: the aborted turn, then each queued prompt's long answer, and the
    transcript is still at the bottom at the end — even though the layout changed on the way (the
    terminal narrowed: the text rewrapped taller while the view was at its end)."""
    marker = uuid.uuid4().hex[:8]
    app = KimakiApp(live)
    async with app.run_test(size=SIZE) as pilot:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt(f"LONG:2500 {marker} zero"))
        await rig.wait_for(TurnFinished)
        await app.open_session(thread.thread_id)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt(f"SLOW:30 {marker} first"))
        await rig.wait_count(TextDelta, 2)
        for word in ("one", "two"):
            await rig.core.conversations.enqueue(thread.thread_id, rig.prompt(f"LONG:2500 {marker} {word}"))
        await settle(pilot)
        await pilot.resize_terminal(SIZE[0] - 30, SIZE[1])
        await settle(pilot)
        await pilot.press("ctrl+b")
        await rig.wait_count(TurnFinished, 4, timeout=60)  # zero, the aborted one, one, two
        view = app.screen.query_one(TranscriptView)
        await until(pilot, lambda: sum(kind == "footer" for kind, _ in shown(app)) == 3, "the answers")
        await settle(pilot)
        assert view.max_scroll_y > 0, "the answers are longer than the screen"
        await until(pilot, lambda: view.scroll_y >= view.max_scroll_y, "the transcript at its end")
