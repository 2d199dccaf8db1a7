"""Handling in arrival order per key (a thread): front ends hold a key while they turn one
incoming message into a prompt, so a message that needs longer to prepare (attachments, a new
thread and session) is still submitted before the ones that came after it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ArrivalOrder:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._holders: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Wait for the earlier holders of `key` (first come, first served), then run the block."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:  # nobody waits: forget the key
                del self._holders[key], self._locks[key]
