"""One SSE connection to OpenCode's `GET /global/event`, parsed into typed events, reconnecting.

Bad lines are logged and skipped; a lost connection is retried with exponential backoff
(reset once events flow again). After each (re)connect, `on_connect` runs as soon as the
server's `server.connected` event arrives, so the caller can resync what it may have missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.opencode.events import Event, EventParseError, ServerConnected, parse_event

log = logging.getLogger(__name__)

EventHandler = Callable[[Event], Awaitable[None] | None]
ConnectHandler = Callable[[], Awaitable[None]]


class EventStream:
    def __init__(
        self,
        client: OpenCodeClient,
        on_event: EventHandler,
        *,
        on_connect: ConnectHandler | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        path: str = "/global/event",
        hello_timeout: float = 10.0,
    ) -> None:
        self._client = client
        self._on_event = on_event
        self._on_connect = on_connect
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._path = path
        self._hello_timeout = hello_timeout
        self._hello: asyncio.Timeout | None = None
        self._wake = asyncio.Event()
        self.connected = asyncio.Event()
        self.reconnect_delay = backoff_initial
        self.connections = 0

    async def wait_connected(self, timeout: float | None = None) -> bool:
        """True once the server's `server.connected` arrived, False if `timeout` passed first."""
        if self.connected.is_set():
            # Every prompt asks; wait_for would hand the loop round (a task, a timer) each time,
            # and in a burst each round trip waits behind every other thread's work.
            return True
        try:
            await asyncio.wait_for(self.connected.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def reconnect_now(self) -> None:
        """Skip the current backoff wait (e.g. the supervisor just restarted the server), and give
        up a connect attempt the server has not answered yet: it may be stuck on the old server."""
        self._wake.set()
        hello = self._hello
        if hello is not None and not hello.expired() and not self.connected.is_set():
            hello.reschedule(asyncio.get_running_loop().time())

    async def run(self) -> None:
        """Stream until cancelled; connection failures only lead to a reconnect."""
        while True:
            try:
                await self._connect_once()
                log.info("OpenCode event stream ended; reconnecting")
            except OpenCodeError as exc:
                log.warning("OpenCode event stream: %s", exc)
            except TimeoutError:
                log.warning("OpenCode event stream: no server.connected within %g s", self._hello_timeout)
            except Exception:  # the stream's loop must outlive a bug in one connection: reconnect
                log.exception("OpenCode event stream failed unexpectedly")
            finally:
                self.connected.clear()
            await self._sleep_backoff()

    async def _sleep_backoff(self) -> None:
        delay = self.reconnect_delay
        self.reconnect_delay = min(delay * 2, self._backoff_max)
        if self._wake.is_set():
            # reconnect_now() came while the last attempt was running: retry at once.
            self._wake.clear()
            return
        log.debug("OpenCode event stream: reconnecting in %.2f s", delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    async def _connect_once(self) -> None:
        # The client's base URL is read here, at each connect: a restart changes the port.
        # OpenCode says server.connected at once; a connection that stays silent (made to a
        # restarting server that took the same port before it could answer) is given up.
        try:
            async with asyncio.timeout(self._hello_timeout) as self._hello:
                async with self._client.open_event_stream(self._path) as lines:
                    async for data in lines:
                        event = self._parse(data)
                        if event is None:
                            continue
                        self.reconnect_delay = self._backoff_initial
                        if isinstance(event, ServerConnected):
                            self._hello.reschedule(None)
                            await self._connected(event)
                        else:
                            await self._deliver(event)
        finally:
            self._hello = None

    async def _connected(self, event: Event) -> None:
        self.connections += 1
        self.connected.set()
        self._wake.clear()
        log.info("OpenCode event stream connected (%s)", self._client.base_url)
        await self._deliver(event)
        if self._on_connect is not None:
            try:
                await self._on_connect()
            except Exception:  # a subscriber's bug must not drop the connection
                log.exception("on_connect handler failed")

    def _parse(self, data: str) -> Event | None:
        try:
            raw = json.loads(data)
        except ValueError:
            log.warning("OpenCode event stream: skipping non-JSON data %r", data[:200])
            return None
        payload = raw.get("payload") if isinstance(raw, dict) else None
        if isinstance(payload, dict) and payload.get("type") == "sync":
            return None  # a replication duplicate of an event we also get in its plain form
        try:
            return parse_event(raw)
        except (EventParseError, TypeError, ValueError, AttributeError) as exc:
            log.warning("OpenCode event stream: skipping unparsable event (%s): %r", exc, data[:200])
            return None

    async def _deliver(self, event: Event) -> None:
        try:
            result = self._on_event(event)
            if inspect.isawaitable(result):
                await result
        except Exception:  # a subscriber's bug must not drop the connection
            log.exception("event handler failed on %s", event.type)
