"""How long the event loop stalls while another program holds kimaki's database.

A store opened as the running kimaki opens it (the short lock wait of `store.db.LOOP_LOCK_WAIT_MS`)
gets writes from several tasks through `store.retry.until_stored` (as the ingress, the post worker
and the queue drain do) while another process holds BEGIN EXCLUSIVE for a few seconds. A ticker
task records the longest gap between its wake-ups (the loop stall). Then the same with SQLite's
old 5 s wait, for comparison. Every write must be in the database afterwards (lost: 0).
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, result

sys.path.insert(0, str(ROOT))

from kimaki_tui.store.db import LOOP_LOCK_WAIT_MS
from kimaki_tui.store.repo import Store
from kimaki_tui.store.retry import until_stored

LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
"""
HOLD_S = 6.0  # longer than SQLite's old 5 s wait
WRITERS = 5
WRITES_EACH = 3
TICK_S = 0.005


async def ticker(stop: asyncio.Event, gaps: list[float]) -> None:
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(TICK_S)
        now = time.perf_counter()
        gaps.append(now - last - TICK_S)
        last = now


async def writer(store: Store, thread: str) -> None:
    for n in range(WRITES_EACH):
        await until_stored(lambda n=n: store.enqueue(thread, f"p{n}", "u", "user", "discord"), thread)


async def run(lock_wait_ms: int | None) -> tuple[float, int]:
    """(longest loop stall in ms while the lock was held, writes lost)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kimaki-tui.db"
        store = Store.open(path, lock_wait_ms=lock_wait_ms)
        locker = await asyncio.create_subprocess_exec(
            sys.executable, "-c", LOCKER, str(path), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert locker.stdout is not None and locker.stdin is not None
        assert await locker.stdout.readline() == b"locked\n"
        stop, gaps = asyncio.Event(), []
        ticks = asyncio.create_task(ticker(stop, gaps))
        writes = [asyncio.create_task(writer(store, f"t{i}")) for i in range(WRITERS)]
        await asyncio.sleep(HOLD_S)
        stop.set()
        await ticks
        locker.stdin.write(b"\n")
        await locker.stdin.drain()
        await locker.wait()
        await asyncio.gather(*writes)
        stored = sum(len(store.queue_items(f"t{i}")) for i in range(WRITERS))
        store.close()
        return max(gaps, default=0.0) * 1000, WRITERS * WRITES_EACH - stored


async def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # the retries' warnings are expected here
    stall, lost = await run(LOOP_LOCK_WAIT_MS)
    result("loop_stall_max_during_lock", stall, "ms", "<=50")
    result("writes_lost_during_lock", lost, "count", "0")
    old_stall, _ = await run(None)
    result("loop_stall_max_with_5s_wait_for_comparison", old_stall, "ms", "none")


if __name__ == "__main__":
    asyncio.run(main())
