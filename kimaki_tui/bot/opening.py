"""Threads still being created on Discord: their posts wait until the thread exists.

A thread started from a message takes that message's id, so the bot can open the session and
send the prompt to OpenCode while Discord creates the thread (thread creation is rate-limited
per channel: with many new threads at once, waiting for it first would hold every prompt back).
"""

from __future__ import annotations

import asyncio


class OpeningThreads:
    def __init__(self) -> None:
        self._pending: dict[str, asyncio.Future[bool]] = {}

    def begin(self, thread_id: str) -> None:
        self._pending[thread_id] = asyncio.get_running_loop().create_future()

    def finish(self, thread_id: str, *, created: bool) -> None:
        future = self._pending.pop(thread_id, None)
        if future is not None and not future.done():
            future.set_result(created)

    async def wait(self, thread_id: str) -> bool:
        """True once the thread exists (at once for a thread not being created); False if its
        creation failed."""
        future = self._pending.get(thread_id)
        return True if future is None else await asyncio.shield(future)
