"""The one bridge from the core's events (and the log ring) to the Textual app.

Event callbacks run synchronously while the core publishes, so the bridge only buffers: every
`interval` seconds at most it posts one `CoreEvents` batch and one `LogLines` batch to the app.
High-rate updates are coalesced on the way: a session's consecutive token deltas of one part
become one delta, and only the latest status of each session (and of the OpenCode server and
the Discord connection) survives a batch. Log lines may be written from any thread; they hop to
the app's loop first.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Sequence
from typing import Any

from textual.message import Message

from kimaki_tui.core.api import EventCallback
from kimaki_tui.core.events import ChatStatus, StatusChanged, TextDelta
from kimaki_tui.logs import RingHandler
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.screens.messages import CoreEvents, LogLines

Subscribe = Callable[[EventCallback], Callable[[], None]]
_LATEST_ONLY = (StatusChanged, ServerStatus, ChatStatus)


def coalesce(events: Sequence[object]) -> tuple[object, ...]:
    """Merge token deltas and superseded statuses; everything else keeps its order."""
    out: list[object | None] = []
    open_delta: dict[str, int] = {}  # session -> index of its last delta, if nothing followed it
    latest: dict[tuple[type, str | None], int] = {}
    for event in events:
        session = getattr(event, "session_id", None)
        if isinstance(event, TextDelta):
            index = open_delta.get(event.session_id)
            previous = out[index] if index is not None else None
            if isinstance(previous, TextDelta) and (previous.part_id, previous.kind) == (
                event.part_id,
                event.kind,
            ):
                out[index] = dataclasses.replace(previous, delta=previous.delta + event.delta)  # type: ignore[index]
                continue
            open_delta[event.session_id] = len(out)
        elif session is not None:
            open_delta.pop(session, None)
        if isinstance(event, _LATEST_ONLY):
            key = (type(event), session)
            if key in latest:
                out[latest[key]] = None
            latest[key] = len(out)
        out.append(event)
    return tuple(event for event in out if event is not None)


class Bridge:
    def __init__(
        self,
        post: Callable[[Message], object],
        subscribe: Subscribe,
        ring: RingHandler | None = None,
        *,
        interval: float = 0.05,
    ) -> None:
        self._post = post
        self._subscribe = subscribe
        self._ring = ring
        self.interval = interval
        self._events: list[object] = []
        self._lines: list[str] = []
        self._handle: asyncio.TimerHandle | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0

    def start(self) -> None:
        """Subscribe; must be called from the app's event loop."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._unsubscribe.append(self._subscribe(self._on_event))
        if self._ring is not None:
            self._unsubscribe.append(self._ring.subscribe(self._on_line))

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _on_event(self, event: object) -> None:
        if self._hop(self._on_event, event):
            return
        self._events.append(event)
        self._schedule()

    def _on_line(self, line: str) -> None:
        if self._hop(self._on_line, line):
            return
        self._lines.append(line)
        self._schedule()

    def _hop(self, method: Callable[[Any], None], item: object) -> bool:
        """Re-run `method(item)` on the app's loop when called from another thread."""
        if self._loop is None or threading.get_ident() == self._thread:
            return False
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(method, item)
        return True

    def _schedule(self) -> None:
        if self._handle is None and self._loop is not None and self._unsubscribe:
            self._handle = self._loop.call_later(self.interval, self.flush)

    def flush(self) -> None:
        """Post what is buffered now (tests call it to skip the wait)."""
        self._handle = None
        events, self._events = self._events, []
        lines, self._lines = self._lines, []
        if events:
            self._post(CoreEvents(coalesce(events)))
        if lines:
            self._post(LogLines(tuple(lines)))
