"""In-process event bus: the core publishes domain events, front ends subscribe.

Publishing is synchronous and never blocks: each subscriber gets its own unbounded
asyncio queue (or a plain callback), so a slow front end cannot stall the core and
events reach every subscriber in publication order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._queues: list[asyncio.Queue[Any]] = []
        self._callbacks: list[Callback] = []

    def publish(self, event: object) -> None:
        for queue in list(self._queues):
            queue.put_nowait(event)
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:  # one subscriber's bug must not stop the others hearing of it
                log.exception("bus subscriber %r failed on %r", callback, type(event).__name__)

    def add_callback(self, callback: Callback) -> Callable[[], None]:
        """Call `callback(event)` synchronously for each event; returns an unsubscribe function."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Any]]:
        """A queue receiving every event published while the context is open."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._queues.append(queue)
        try:
            yield queue
        finally:
            self._queues.remove(queue)
