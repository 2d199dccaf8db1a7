"""Messages of one thread are handled one at a time, in the order they arrived.

discord.py runs each message's handler as its own task, and a handler waits on Discord (opening
the thread, reading attachments, transcribing a voice note) before it reaches the core. Without
a turn per thread, a quick follow-up overtakes the message that opened the thread (the bot hears
of the follow-up before Discord has answered its own request to start the thread), or a plain
message overtakes an earlier one with an attachment.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class ArrivalOrder:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._holders: dict[str, int] = {}  # the lock's holder and waiters: dropped at zero

    @contextlib.asynccontextmanager
    async def turn(self, thread_id: str) -> AsyncIterator[None]:
        """Wait for the thread's earlier messages (enter before any other await), then handle."""
        lock = self._locks.setdefault(thread_id, asyncio.Lock())
        self._holders[thread_id] = self._holders.get(thread_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._holders[thread_id] -= 1
            if not self._holders[thread_id]:
                del self._holders[thread_id], self._locks[thread_id]

    def __len__(self) -> int:
        """Threads with a message being handled or waiting."""
        return len(self._locks)
