"""SVG snapshots of the key screens over the deterministic scene (no server, frozen clocks).

Update after an intended change of the look: `.venv/bin/pytest tests/screens/test_snapshots.py
--snapshot-update`, then look at the new SVGs in tests/screens/__snapshots__.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from kimaki_tui.core.events import ChatStatus
from kimaki_tui.logs import LOG_FORMAT, RingHandler
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.model import ControlCenterModel
from tests.screens.scene import T0, THREADS, build_scene, concrete, offline_model

DATA_DIR = Path("/home/user/.kimaki")
Compare = Callable[..., bool]


def frozen_ring() -> RingHandler:
    """A ring holding a few records with fixed UTC times."""
    ring = RingHandler()
    formatter = logging.Formatter(LOG_FORMAT)
    formatter.converter = time.gmtime
    ring.setFormatter(formatter)
    lines = [
        (
            logging.INFO,
            "kimaki_tui.runtime",
            "loaded 5 thread mapping(s) from /home/user/.kimaki/discord-sessions.db",
        ),
        (logging.INFO, "kimaki_tui.opencode.supervisor", "opencode healthy on port 4567 after 2.1 s"),
        (logging.DEBUG, "kimaki_tui.opencode.stream", "event stream connected"),
        (logging.WARNING, "kimaki_tui.core.session", "session ses_api001 not found; creating a new one"),
        (logging.INFO, "kimaki_tui.bot", "logged in as Kimaki#0001 in 1 guild"),
        (logging.ERROR, "kimaki_tui.bot.runner", "interaction failed: 404 Unknown interaction"),
        (logging.INFO, "kimaki_tui.core.approvals", "permission per_edit01 answered once by control center"),
    ]
    for n, (level, name, message) in enumerate(lines):
        record = logging.LogRecord(name, level, __file__, 1, message, None, None)
        record.created, record.msecs = T0 / 1000 + n * 7.25, 250.0
        ring.handle(record)
    return ring


@pytest.fixture
def model(tmp_path: Path) -> Iterator[ControlCenterModel]:
    model = offline_model(tmp_path, ring=frozen_ring(), data_dir=DATA_DIR)
    yield model
    concrete(model).store.close()


def scene_then(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, KimakiApp)
        build_scene(app.model)
        for _, _, _, session_id in THREADS:  # the scene has no OpenCode history to load
            app.transcripts.prepend_history(session_id, [])
        app.model.core.publish(ChatStatus("connected", guilds=1, latency_ms=42, user="Kimaki#0001"))
        app.model.core.publish(ServerStatus("healthy", port=4567))
        app.bridge.flush()
        await pilot.pause()
        app.screen.sync()  # type: ignore[attr-defined]
        await pilot.press(*keys)
        await pilot.pause()
        for box in app.screen.query(Input):
            box.cursor_blink = False

    return run_before


# Every screen at the smallest size it must be usable in and at a roomy one.
SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])
Size = tuple[int, int]


@SIZES
def test_dashboard(snap_compare: Compare, model: ControlCenterModel, size: Size) -> None:
    assert snap_compare(KimakiApp(model), terminal_size=size, run_before=scene_then())


@SIZES
def test_approvals_edit_with_diff(snap_compare: Compare, model: ControlCenterModel, size: Size) -> None:
    assert snap_compare(KimakiApp(model), terminal_size=size, run_before=scene_then("2"))


@SIZES
def test_approvals_question(snap_compare: Compare, model: ControlCenterModel, size: Size) -> None:
    assert snap_compare(KimakiApp(model), terminal_size=size, run_before=scene_then("2", "down", "enter"))


@SIZES
def test_session_transcript(snap_compare: Compare, model: ControlCenterModel, size: Size) -> None:
    assert snap_compare(KimakiApp(model), terminal_size=size, run_before=scene_then("enter"))


@SIZES
def test_logs(snap_compare: Compare, model: ControlCenterModel, size: Size) -> None:
    assert snap_compare(KimakiApp(model), terminal_size=size, run_before=scene_then("3", "l", "l"))


@SIZES
def test_projects(snap_compare: Compare, model: ControlCenterModel, size: Size) -> None:
    assert snap_compare(KimakiApp(model), terminal_size=size, run_before=scene_then("4"))


@SIZES
def test_tasks(snap_compare: Compare, model: ControlCenterModel, size: Size) -> None:
    assert snap_compare(KimakiApp(model), terminal_size=size, run_before=scene_then("5"))
