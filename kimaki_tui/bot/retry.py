"""Discord requests outside the outbox that must survive a short outage or a 429 storm (starting a
thread, reading what was missed): tried again with backoff while the failure is transient (the
same test the outbox uses), then raised."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from kimaki_tui.bot.delivery import is_transient

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_DELAY = 0.25
MAX_DELAY = 4.0


async def retrying(request: Callable[[], Awaitable[T]], what: str, *, attempts: int = 8) -> T:
    """`await request()`, again after each transient failure (up to `attempts` in all)."""
    for attempt in range(1, attempts):
        try:
            return await request()
        except Exception as exc:
            if not is_transient(exc):
                raise
            delay = min(MAX_DELAY, FIRST_DELAY * 2 ** (attempt - 1))
            log.warning("%s failed (%s); trying again in %.2f s", what, exc, delay)
            await asyncio.sleep(delay)
    return await request()
