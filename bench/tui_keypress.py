"""Key press to updated frame in the control center, with 200 sessions and 100,000 log lines loaded.

The sessions are real core runtimes (threads mapped in a Store, states from synthetic OpenCode
events fed through `core.handle_event`); the log lines sit in the ring the Logs screen reads.
The app runs headless (`App.run_test`); each key is sent the way the terminal driver sends it,
and the time is taken when the next frame has been composed and rendered to terminal output.
Navigation keys on the dashboard (cursor over the sessions table) and on the Logs screen
(scrolling the 100,000 lines) are timed; screen switches and a search keystroke are reported too.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import median, result
from rich.console import RenderableType
from textual import events
from textual.screen import Screen

from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.service import Core
from kimaki_tui.logs import LOG_FORMAT, RingHandler
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.events import parse_event
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.settings import SessionSettings, Settings
from kimaki_tui.store.repo import Store

SESSIONS = 200
LOG_LINES = 100_000
PRESSES = 60  # per direction and screen
SIZE = (120, 40)
T0 = 1_795_311_000_000
Raw = dict[str, Any]


def _turn(sid: str, n: int, directory: str) -> list[Raw]:
    def ev(etype: str, **props: Any) -> Raw:
        return {"type": etype, "properties": {"sessionID": sid, **props}}

    mid, at = f"msg_a{n}", T0 + n * 1000
    info = {
        "id": mid,
        "role": "assistant",
        "agent": "build",
        "modelID": "claude-sonnet-4",
        "providerID": "anthropic",
        "path": {"cwd": directory, "root": directory},
        "time": {"created": at},
    }
    done = {
        **info,
        "finish": "stop",
        "time": {"created": at, "completed": at + 900},
        "tokens": {"total": 12_000 + n, "input": 11_000, "output": 1000 + n, "cache": {}},
    }
    tool = {
        "status": "completed",
        "input": {"command": f"pytest -k case{n}"},
        "output": "ok",
        "title": "pytest",
    }
    events = [
        ev("session.updated", info={"id": sid, "title": f"Session number {n} of the benchmark"}),
        ev("message.updated", info={"id": f"msg_u{n}", "role": "user", "time": {"created": at - 10}}),
        ev("session.status", status={"type": "busy"}),
        ev("message.updated", info=info),
        ev(
            "message.part.updated",
            part={
                "id": f"prt_t{n}",
                "messageID": mid,
                "sessionID": sid,
                "type": "tool",
                "tool": "bash",
                "callID": f"c{n}",
                "state": tool,
            },
        ),
        ev(
            "message.part.updated",
            part={
                "id": f"prt_x{n}",
                "messageID": mid,
                "sessionID": sid,
                "type": "text",
                "text": "",
                "time": {"start": 1},
            },
        ),
        *(
            ev("message.part.delta", messageID=mid, partID=f"prt_x{n}", field="text", delta=f"word{k} ")
            for k in range(20)
        ),
    ]
    if n % 7 == 0:
        return events  # still streaming: busy
    if n % 10 == 3:
        return [
            *events,
            ev(
                "permission.asked",
                id=f"per_{n}",
                permission="bash",
                patterns=["make"],
                metadata={"command": "make"},
                always=["make *"],
            ),
        ]
    return [
        *events,
        ev(
            "message.part.updated",
            part={
                "id": f"prt_x{n}",
                "messageID": mid,
                "sessionID": sid,
                "type": "text",
                "text": "done",
                "time": {"start": 1, "end": 2},
            },
        ),
        ev("message.updated", info=done),
        ev("session.status", status={"type": "idle"}),
        ev("session.idle"),
    ]


async def _never() -> None:
    raise RuntimeError("the benchmark never sends prompts")


def build_model(tmp: Path, log_lines: int = LOG_LINES) -> ControlCenterModel:
    store = Store.open(tmp / "db.sqlite")
    core = Core(
        client=OpenCodeClient("http://127.0.0.1:9"),
        store=store,
        bus=EventBus(),
        wait_stream=_never,
        options=SessionSettings(permission_timeout_minutes=0),
    )
    core.start()
    ring = RingHandler(capacity=log_lines)
    ring.setFormatter(logging.Formatter(LOG_FORMAT))
    logger = logging.getLogger("kimaki_tui.bench")
    logger.addHandler(ring)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    levels = (logging.DEBUG, logging.INFO, logging.INFO, logging.INFO, logging.WARNING, logging.ERROR)
    for n in range(log_lines):
        logger.log(
            levels[n % len(levels)],
            "event %d for session ses_%05d: part updated (%d bytes)",
            n,
            n % SESSIONS,
            n * 7 % 4096,
        )
    logger.removeHandler(ring)
    return ControlCenterModel(
        core=core, settings=Settings(data_dir=tmp), log_ring=ring, log_capacity=log_lines
    )


def feed_sessions(model: ControlCenterModel, sessions: int = SESSIONS) -> None:
    core = model.core
    for n in range(sessions):
        directory = f"/home/user/project-{n % 20:02d}"
        sid = f"ses_bench{n:05d}"
        core.sessions.open(str(10_000 + n), str(900 + n % 20), directory, sid)
        for raw in _turn(sid, n, directory):
            core.handle_event(parse_event(raw))


class FrameClock:
    """Stamps each composed frame after rendering it to terminal output (headless skips the write)."""

    def __init__(self, app: KimakiApp) -> None:
        self.app = app
        self.frame = asyncio.Event()
        self._display = app._display
        app._display = self._stamp  # type: ignore[method-assign]

    def _stamp(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        self._display(screen, renderable)
        if renderable is not None:
            segments = getattr(renderable, "render_segments", None)
            if segments is not None:
                segments(self.app.console)
            self.frame.set()

    async def press(self, key: str) -> float:
        """Milliseconds from sending `key` to the next frame."""
        assert self.app._driver is not None
        driver = self.app._driver
        return await self.after(lambda: driver.send_message(events.Key(key, key if len(key) == 1 else None)))

    async def after(self, *actions: Callable[[], object]) -> float:
        """Milliseconds from doing `actions` (in order) to the next frame."""
        await asyncio.sleep(0.02)  # let earlier frames and timers settle
        self.frame.clear()
        start = time.perf_counter()
        for action in actions:
            action()
        await asyncio.wait_for(self.frame.wait(), 5)
        return (time.perf_counter() - start) * 1000


async def run(
    sessions: int = SESSIONS, log_lines: int = LOG_LINES, *, dashboard_only: bool = False
) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        model = build_model(Path(tmp), log_lines)
        app = KimakiApp(model)
        timings: dict[str, list[float]] = {"dashboard": [], "logs": [], "switch": [], "search": []}
        async with app.run_test(size=SIZE) as pilot:
            feed_sessions(model, sessions)
            app.bridge.flush()
            await pilot.pause(0.3)
            assert app.screen.query_one("#sessions").row_count == sessions  # type: ignore[attr-defined]
            assert app.logbook.size == log_lines
            clock = FrameClock(app)
            for key in ["down"] * PRESSES + ["up"] * PRESSES:
                timings["dashboard"].append(await clock.press(key))
            if not dashboard_only:
                await other_screens(clock, pilot, timings)
        await model.core.close()
        model.core.store.close()
        return timings


async def other_screens(clock: FrameClock, pilot: Any, timings: dict[str, list[float]]) -> None:
    """The Logs screen (scrolling its lines, a search) and switches between screens."""
    timings["switch"].append(await clock.press("3"))
    await pilot.pause(0.3)
    for key in ["up"] * PRESSES + ["down"] * PRESSES:
        timings["logs"].append(await clock.press(key))
    timings["switch"].append(await clock.press("1"))
    timings["switch"].append(await clock.press("3"))
    await clock.press("slash")
    for key in "ses_00042":
        timings["search"].append(await clock.press(key))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    timings = asyncio.run(run())
    navigation = timings["dashboard"] + timings["logs"]
    for name, values in timings.items():
        print(
            f"# {name}: n={len(values)} median={median(values):.1f} ms max={max(values):.1f} ms", flush=True
        )
    result("tui_keypress_to_frame_ms", median(navigation), "ms", "<=16")
    result("tui_keypress_to_frame_p95_ms", p95(navigation), "ms", "<=50")


if __name__ == "__main__":
    main()
