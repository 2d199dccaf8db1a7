"""Store work retried while another process holds the database: `until_stored` waits for the lock
to go, `WriteBehind` keeps writes made meanwhile in their order; nothing is dropped."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kimaki_tui.store.db import LOOP_LOCK_WAIT_MS, DatabaseBusy
from kimaki_tui.store.repo import Store
from kimaki_tui.store.retry import WriteBehind, until_stored
from tests.harness import wait_until

LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
"""


@asynccontextmanager
async def locked(path: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    locker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCKER, str(path),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert locker.stdin is not None and locker.stdout is not None
    try:
        assert await locker.stdout.readline() == b"locked\n"
        yield locker
    finally:
        locker.stdin.write(b"\n")
        await locker.stdin.drain()
        await locker.wait()


async def test_writes_wait_for_a_lock_and_keep_their_order(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "kimaki-tui.db", lock_wait_ms=LOOP_LOCK_WAIT_MS)
    try:
        writes = WriteBehind("turns")
        async with locked(store.path):
            try:
                store.open_turn("t0", "s0")
            except DatabaseBusy:
                pass
            else:
                raise AssertionError("a write went through while another process held the lock")
            writes.write(lambda: store.open_turn("t1", "s1"))
            writes.write(lambda: store.close_turn("t1"))
            writes.write(lambda: store.open_turn("t2", "s2"))
            enqueue = lambda: store.enqueue("t3", "p", "u", "n", "discord")  # noqa: E731
            queued = asyncio.create_task(until_stored(enqueue, "the queue"))
            await asyncio.sleep(0)  # the retry has begun; nothing else happens until the lock goes
            assert not queued.done()
        row = await queued
        await wait_until(lambda: writes.waiting == 0, 20, message="the writes kept behind to be stored")
        assert store.queue_items("t3") == [row]
        assert store.take_open_turns() == ["t2"]
        writes.close()
    finally:
        store.close()
