"""Keeps one cancelled request from muting the bot for good.

discord.py (2.x) clears its "global rate limit is over" event when a request gets a global 429,
sleeps out `retry_after`, then sets it again; every other request waits for that event. A
request cancelled during the sleep (a typing pulse stopped, a timeout, a shutdown) never sets it,
and from then on every REST call of the client waits forever while the gateway stays connected:
the bot reads messages and answers nothing. (A known bug; disnake fixed it in its copy.)

The guard wraps `HTTPClient.request`: a request that is cancelled while the event is clear sets it
again. If another request was legitimately sleeping out the limit, the others may go a moment
early and get one more 429, which discord.py sleeps out as usual.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from discord.http import HTTPClient

log = logging.getLogger(__name__)


def install_global_limit_guard(http: HTTPClient) -> None:
    send: Callable[..., Coroutine[Any, Any, Any]] = http.request

    async def request(route: Any, **kwargs: Any) -> Any:
        try:
            return await send(route, **kwargs)
        except asyncio.CancelledError:
            over: asyncio.Event | None = getattr(http, "_global_over", None)
            if isinstance(over, asyncio.Event) and not over.is_set():
                log.info("a request cancelled during a global rate limit: releasing the limit's lock")
                over.set()
            raise

    http.request = request  # type: ignore[method-assign]
