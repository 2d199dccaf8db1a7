"""The bridge's coalescing and batching, the transcript book, and history from OpenCode messages."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from textual.message import Message

from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.events import (
    ChatStatus,
    PartCompleted,
    PermissionResolved,
    PromptDispatched,
    QueueChanged,
    StatusChanged,
    TextDelta,
    TurnFinished,
)
from kimaki_tui.logs import RingHandler
from kimaki_tui.opencode.models import Message as OpenCodeMessage
from kimaki_tui.screens.bridge import Bridge, coalesce
from kimaki_tui.screens.history import history_entries
from kimaki_tui.screens.messages import CoreEvents, LogLines
from kimaki_tui.screens.transcript import TranscriptBook
from tests.harness import wait_until
from tests.screens.scene import build_scene, concrete, offline_model


def delta(session: str, part: str, text: str, kind: str = "text") -> TextDelta:
    return TextDelta(session, part, text, kind)  # type: ignore[arg-type]


def test_coalesce_merges_deltas_and_keeps_the_latest_status() -> None:
    queue = QueueChanged("s1", (), thread_id="t1")
    events = [
        delta("s1", "p1", "Hel"),
        delta("s2", "q1", "Other "),
        delta("s1", "p1", "lo"),
        StatusChanged("s1", "busy"),
        delta("s2", "q1", "session"),
        StatusChanged("s1", "waiting"),
        delta("s1", "p1", " again"),
        delta("s1", "p1", "!", "reasoning"),
        queue,
        ChatStatus("connecting"),
        ChatStatus("connected", guilds=1),
        StatusChanged("s1", "idle"),
    ]
    assert coalesce(events) == (
        delta("s1", "p1", "Hello"),
        delta("s2", "q1", "Other session"),
        delta("s1", "p1", " again"),  # a status came between: order within the session is kept
        delta("s1", "p1", "!", "reasoning"),
        queue,
        ChatStatus("connected", guilds=1),
        StatusChanged("s1", "idle"),
    )


async def test_bridge_batches_bus_events_and_log_lines_from_any_thread() -> None:
    bus = EventBus()
    ring = RingHandler()
    ring.setFormatter(logging.Formatter("%(message)s"))
    posted: list[Message] = []
    bridge = Bridge(posted.append, bus.add_callback, ring, interval=0.02)
    bridge.start()
    try:
        for word in ("one ", "two ", "three"):
            bus.publish(delta("s1", "p1", word))
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "from a thread", None, None)
        worker = threading.Thread(target=ring.emit, args=(record,))
        worker.start()
        worker.join()
        await wait_until(lambda: len(posted) == 2, 5, 0.01, "two batches")
    finally:
        bridge.stop()
    batch, lines = posted
    assert isinstance(batch, CoreEvents) and batch.events == (delta("s1", "p1", "one two three"),)
    assert isinstance(lines, LogLines) and lines.lines == ("from a thread",)
    bus.publish(delta("s1", "p1", "after stop"))
    await asyncio.sleep(0.05)
    assert len(posted) == 2


async def test_transcript_book_follows_a_turn(tmp_path: Path) -> None:
    model = offline_model(tmp_path)
    book = TranscriptBook(limit=50)
    concrete(model).bus.add_callback(book.apply)
    build_scene(model)
    demo = book.entries("ses_demo01")
    assert [e.kind for e in demo] == ["user", "tool", "text", "footer", "user", "tool", "notice"]
    assert demo[-1].meta == "waiting" and demo[-2].done is False
    api = book.entries("ses_api001")
    assert api[-1].kind == "text" and not api[-1].done and api[-1].text.startswith("I'll add `limit`")
    assert [e.kind for e in book.entries("ses_docs01")][-2:] == ["error", "notice"]

    request = model.core.approvals.pending_permissions("ses_demo01")[0]
    model.core.publish(PermissionResolved("ses_demo01", request, "once", "alice", "discord"))
    notice = book.entries("ses_demo01")[-1]
    assert notice.text.startswith("✅ Accepted once by alice") and notice.meta == ""
    assert len(book.entries("ses_demo01")) == 7  # resolved in place, not appended
    model.core.publish(TurnFinished("ses_demo01", True, 2.0, 10, 5, 5, 10, None, "p", "m", "build"))
    assert all(e.done for e in book.entries("ses_demo01"))
    await concrete(model).close()
    concrete(model).store.close()


def test_transcript_limit_and_history_merge() -> None:
    book = TranscriptBook(limit=3)
    for n in range(5):
        book.apply(PartCompleted("s", f"p{n}", "m", "text", text=f"part {n}"))
    assert [e.key for e in book.entries("s")] == ["p2", "p3", "p4"]
    recorded: list[Mapping[str, Any]] = [
        {"info": {"role": "user", "sessionID": "s"}, "parts": [{"id": "u1", "type": "text", "text": "hi"}]},
        {
            "info": {"role": "assistant", "sessionID": "s"},
            "parts": [
                {
                    "id": "t1",
                    "type": "tool",
                    "tool": "bash",
                    "messageID": "a1",
                    "state": {"status": "error", "input": {"command": "false"}, "error": "exit 1"},
                },
                {"id": "s1", "type": "step-start"},
                {"id": "p4", "type": "text", "text": "part 4 as stored"},
            ],
        },
    ]
    history = history_entries([OpenCodeMessage.from_json(m) for m in recorded])
    assert [(e.key, e.kind) for e in history] == [("u1", "user"), ("t1", "tool"), ("p4", "text")]
    assert history[1].text == "┣ bash `false` ✗ exit 1" and history[1].meta == "error"
    book.prepend_history("s", history)
    # Live entries win over history for the same part, and the limit still holds.
    assert [e.key for e in book.entries("s")] == ["p2", "p3", "p4"]
    assert book.entries("s")[-1].text == "part 4"
    assert not book.needs_history("s") and book.needs_history("other")

    # A prompt recorded live is not repeated by the history that contains it (live entries follow).
    live = TranscriptBook()
    live.apply(PromptDispatched("s", "hi", "alice", "discord", False, thread_id="t"))
    live.prepend_history("s", history)
    assert [(e.kind, e.text) for e in live.entries("s")] == [
        ("tool", "┣ bash `false` ✗ exit 1"),
        ("text", "part 4 as stored"),
        ("user", "hi"),
    ]
