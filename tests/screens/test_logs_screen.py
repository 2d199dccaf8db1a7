"""The Logs screen: the ring's lines, level filter, search, live lines, tracebacks kept together."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from kimaki_tui.logs import LOG_FORMAT, RingHandler, SecretFilter
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.logbook import LogBook, level_of
from kimaki_tui.screens.logs import LogsScreen
from kimaki_tui.screens.widgets.log_view import LogView
from tests.screens.conftest import SIZE, plain, settle, until
from tests.screens.scene import concrete, offline_model


@pytest.fixture
def ring() -> Iterator[RingHandler]:
    ring = RingHandler(capacity=10_000)
    ring.setFormatter(logging.Formatter(LOG_FORMAT))
    ring.addFilter(SecretFilter())
    logger = logging.getLogger("kimaki_tui.test_logs")
    logger.addHandler(ring)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield ring
    logger.removeHandler(ring)


def visible(view: LogView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


def count_label(app: KimakiApp) -> str:
    return plain(app.screen.query_one("#log-count", Static))


async def test_filter_search_and_live_lines(ring: RingHandler, tmp_path: Path) -> None:
    log = logging.getLogger("kimaki_tui.test_logs")
    for n in range(300):
        log.debug("poll %d", n)
        if n % 10 == 0:
            log.info("session %d went idle", n)
        if n % 100 == 0:
            log.warning("slow answer from opencode (%d)", n)
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("a handler failed")
    model = offline_model(tmp_path, ring=ring)
    app = KimakiApp(model)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, LogsScreen)
        view = app.screen.query_one(LogView)
        total = app.logbook.size
        assert total > 300 + 30 + 3 + 1  # the traceback adds lines of its own
        assert count_label(app) == f"{total:,} lines"
        assert visible(view)[-1].startswith("ValueError: boom")  # following the tail

        await pilot.press("l", "l", "l")  # ALL -> DEBUG -> INFO -> WARNING
        shown = [line for line in visible(view) if line]
        assert next(line for line in shown if " WARNING " in line).endswith("slow answer from opencode (0)")
        assert len([line for line in shown if " WARNING " in line]) == 3
        assert not any(" INFO " in line or " DEBUG " in line for line in shown)
        assert any(" ERROR " in line for line in shown) and shown[-1] == "ValueError: boom"
        assert count_label(app) == f"{len(app.logbook.select(logging.WARNING, '')):,} of {total:,} lines"

        await pilot.press("x", "slash", *"went idle", "enter")
        assert count_label(app) == f"30 of {app.logbook.size:,} lines"
        assert all("went idle" in line for line in visible(view) if line)

        # New lines arrive live (from another thread too) and the filter applies to them.
        worker = threading.Thread(target=log.info, args=("session 999 went idle",))
        worker.start()
        worker.join()
        log.info("unrelated line")
        await until(pilot, lambda: count_label(app).startswith("31 of"), "the live line")
        assert visible(view)[len([line for line in visible(view) if line]) - 1].endswith(
            "session 999 went idle"
        )
        await pilot.press("x")
        assert count_label(app) == f"{app.logbook.size:,} lines"
    await concrete(model).close()


def test_logbook_levels_trimming_and_selection() -> None:
    book = LogBook(capacity=100)
    records = [
        f"2025-01-01 10:00:00,000 {'INFO   ' if n % 2 else 'ERROR  '} kimaki: line {n}" for n in range(95)
    ]
    book.extend(records)
    assert level_of(records[0]) == logging.ERROR and level_of("no header here") == logging.INFO
    assert book.select(logging.ERROR, "")[:2] == [0, 2]
    book.extend(["2025-01-01 10:00:00,000 WARNING kimaki: two\nlines"] * 10)
    assert book.dropped > 0 and book.size <= 110
    first = book.dropped
    assert book.line(first)[1].endswith(f"line {first}")
    assert book.select(logging.WARNING, "lines") == [
        i for i in range(first, book.end) if book.line(i)[1] == "lines"
    ]
    later = book.select(0, "", start=book.end - 2)
    assert later == [book.end - 2, book.end - 1]
