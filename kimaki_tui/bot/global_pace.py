"""Keeps the bot's REST requests under Discord's global limit, starting threads first.

Discord lets a bot make 50 requests a second in all (interaction callbacks and webhooks aside).
discord.py only learns of the limit from a 429, then stops every request until it is over — so
a burst (a hundred threads answering at once) ran into hundreds of 429s, each one a wasted round
trip that counts towards Discord's ban on invalid requests, and a thread being opened waited
behind the answers already in flight. The pace lets at most `per_second` requests start in any
`window`, and when requests wait, creating a thread (a person is waiting for it to appear) goes
before posts and edits of answers.

It runs as aiohttp's request-start trace hook (discord.py's `http_trace`), which aiohttp awaits
just before it sends: after discord.py's per-route bucket has let the request go, so no slot is
held by a request that then waits for its bucket.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable
from types import SimpleNamespace

import aiohttp
from discord.http import Route

PER_SECOND = 48  # Discord's 50, less a margin for the network's jitter between bot and Discord
_UNCOUNTED = re.compile(r"/(interactions|webhooks)/")
_THREAD_START = re.compile(r"/channels/\d+(/messages/\d+)?/threads$")


class GlobalPace:
    """At most `per_second` starts in any `window` seconds; waiters leave urgent ones first."""

    def __init__(
        self, per_second: int = PER_SECOND, window: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second, self.window, self._clock = per_second, window, clock
        self._started: deque[float] = deque()  # the last `per_second` start times
        self._waiting: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())  # urgent, other
        self._timer: asyncio.TimerHandle | None = None

    async def take(self, urgent: bool = False) -> None:
        """Return when a request may start now."""
        if not any(self._waiting) and self._free():
            self._started.append(self._clock())
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[0 if urgent else 1].append(waiter)
        self._wake_later()
        await waiter

    def _free(self) -> bool:
        edge = self._clock() - self.window
        while self._started and self._started[0] <= edge:
            self._started.popleft()
        return len(self._started) < self.per_second

    def _release(self) -> None:
        self._timer = None
        while self._free() and (waiter := self._next_waiter()) is not None:
            self._started.append(self._clock())
            waiter.set_result(None)
        self._wake_later()

    def _next_waiter(self) -> asyncio.Future[None] | None:
        for queue in self._waiting:
            while queue:
                waiter = queue.popleft()
                if not waiter.done():  # a cancelled request gives its turn away
                    return waiter
        return None

    def _wake_later(self) -> None:
        if self._timer is not None or not any(self._waiting):
            return
        delay = 0.0 if self._free() else self._started[0] + self.window - self._clock()
        self._timer = asyncio.get_running_loop().call_later(max(delay, 0.0), self._release)


def pace_trace(pace: GlobalPace) -> aiohttp.TraceConfig:
    """discord.py's `http_trace`: each REST request to Discord's API waits for its turn."""

    async def on_request_start(
        session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        url = str(params.url)
        if url.startswith(Route.BASE) and not _UNCOUNTED.search(url):
            urgent = params.method == "POST" and _THREAD_START.search(params.url.path) is not None
            await pace.take(urgent)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    return trace
