"""Retry store work while another program holds the database or its disk is full: a delay, never
a drop.

The running kimaki's store waits only briefly for a lock (store.db.LOOP_LOCK_WAIT_MS), so a lock
held by another program raises DatabaseBusy at once instead of freezing the event loop. The async
paths that write (ingress, the post worker, the outbox sender, the queue drain) run their step
through `until_stored` / `until_stored_async`, which sleep (yielding the loop) and try again until
the lock is gone. A full disk raises DatabaseFull, a DatabaseBusy: the same paths wait for room.
A step retried here must change nothing before its store call fails, or be idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from kimaki_tui.store.db import DatabaseBusy

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_DELAY = 0.1
MAX_DELAY = 2.0
_LOG_EVERY = 30  # attempts between repeated warnings while a lock lasts (about a minute)
# Right after one writer met the lock, the others wait before trying: each try can block the loop
# for LOOP_LOCK_WAIT_MS, and a dozen tries in one turn of the loop would add up.
_QUIET = 0.05


class _LockSeen:
    at = -_QUIET  # time.monotonic() when a writer last met the lock


_seen = _LockSeen()


def busy_delay(attempt: int) -> float:
    """Seconds to wait after the `attempt`-th DatabaseBusy in a row (1-based). Jittered: writers
    that met the lock together must not all try again in the same turn of the loop (each try can
    block it for LOOP_LOCK_WAIT_MS)."""
    return min(MAX_DELAY, FIRST_DELAY * 2.0 ** max(0, attempt - 1)) * random.uniform(0.5, 1.0)


def _recently_locked() -> bool:
    return time.monotonic() - _seen.at < _QUIET


async def until_stored(step: Callable[[], T], what: str) -> T:
    """Call `step` until it does not raise DatabaseBusy; other errors pass."""

    async def run() -> T:
        return step()

    return await until_stored_async(run, what)


async def until_stored_async(step: Callable[[], Awaitable[T]], what: str) -> T:
    """Await `step()` until it does not raise DatabaseBusy; other errors pass."""
    attempt = 0
    while True:
        if _recently_locked():
            await asyncio.sleep(_QUIET * random.uniform(0.5, 1.0))
            continue
        try:
            return await step()
        except DatabaseBusy as exc:
            _seen.at = time.monotonic()
            attempt += 1
            delay = busy_delay(attempt)
            if attempt % _LOG_EVERY == 1:
                log.warning("%s waits for the database (%s); trying again in %.2f s", what, exc, delay)
            await asyncio.sleep(delay)


class WriteBehind:
    """Writes made from synchronous code (bus callbacks) that cannot wait: each runs at once, and
    one that meets a lock (and every later one, to keep their order) is kept and retried by a
    task of its own until the lock is gone. `close()` stops retrying; what is left is logged."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._waiting: list[Callable[[], object]] = []
        self._task: asyncio.Task[None] | None = None

    def write(self, step: Callable[[], object]) -> None:
        if not self._waiting and not _recently_locked():
            try:
                step()
                return
            except DatabaseBusy:
                _seen.at = time.monotonic()
        self._waiting.append(step)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._waiting:
            await until_stored(self._waiting[0], self._what)
            self._waiting.pop(0)

    @property
    def waiting(self) -> int:
        """How many writes wait for the lock to go."""
        return len(self._waiting)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.waiting:
            log.error("%s: %d writes were not stored (the database stayed locked)", self._what, self.waiting)
