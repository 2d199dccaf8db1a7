"""The connection to one OpenCode server: its address and password, the one request path every
call of the client goes through, and the event stream.

Requests go through one aiohttp session (aiohttp is already here for discord.py). A hundred threads
starting at once keep a hundred requests in flight, and the client's CPU per request is what the
last of them waits behind: httpx on httpcore cost 3.3–5.4 ms a request at that concurrency (its pool
re-scans every connection against every other), httpx on aiohttp's connector 0.8–1.0 ms, aiohttp
alone 0.25–0.4 ms. The event stream, one long-lived connection, stays on httpx and httpx-sse.

Every transport failure is translated into the `errors` tree here, and every answer is decoded here
(4xx/5xx become typed errors). Requests are scoped to a project with `?directory=`. The supervisor
`rebind`s the connection after a restart (new port, new password). Tests and benchmarks watch
requests through `watchers` (each `Exchange` is seen when it leaves and again when answered).
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp
import httpx
from httpx_sse import SSEError, aconnect_sse

from kimaki_tui.opencode.errors import (
    OpenCodeError,
    OpenCodeTimeout,
    OpenCodeUnavailable,
    SessionNotFound,
    error_from_response,
)

JSON = Mapping[str, Any]
_UNSET: Any = object()


def check_session_id(session_id: str) -> str:
    # The server answers 500 (not 404) for ids without the prefix; say what it means instead.
    if not session_id.startswith("ses"):
        raise SessionNotFound(404, "NotFoundError", f"Session not found: {session_id}")
    return session_id


def drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def items_of(body: Any) -> list[Any]:
    """A list answer's items (an empty list for anything else)."""
    return list(body) if isinstance(body, list) else []


def phase_timeouts(seconds: float | None) -> aiohttp.ClientTimeout:
    """`seconds` for each phase (waiting for a connection, connecting, each read), none for the
    whole request: a long answer that keeps arriving is not cut (httpx's meaning, kept)."""
    return aiohttp.ClientTimeout(total=None, connect=seconds, sock_connect=seconds, sock_read=seconds)


@dataclass
class Exchange:
    """One request to OpenCode as watchers see it: `status` is 0 until it is answered."""

    method: str
    path: str
    sent: Any = None
    status: int = 0
    answer: Any = None


Watcher = Callable[[Exchange], None]


class HttpTransport:
    """The connection and its request path; the client's endpoint groups derive from it."""

    def __init__(
        self,
        base_url: str,
        password: str | None = None,
        *,
        username: str = "opencode",
        timeout: float = 30.0,
    ) -> None:
        self._username = username
        self._timeout = timeout
        self._phases = phase_timeouts(timeout)
        self._session: aiohttp.ClientSession | None = None  # made in the loop, at the first request
        self._events = httpx.AsyncClient(timeout=timeout)
        self.watchers: list[Watcher] = []
        self.rebind(base_url, password)

    @property
    def base_url(self) -> str:
        return self._base_url

    def rebind(self, base_url: str, password: str | None) -> None:
        """Point at a (re)started server: new port, new password."""
        self._base_url = base_url.rstrip("/")
        basic = aiohttp.encode_basic_auth(self._username, password) if password else None
        self._headers = {"Authorization": basic} if basic else {}
        self._events.base_url = httpx.URL(self._base_url)
        self._events.auth = httpx.BasicAuth(self._username, password) if password else httpx.Auth()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
        await self._events.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Idle connections close after 5 s, as httpx's did: a quiet kimaki holds none.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(keepalive_timeout=5))
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        *,
        directory: str | Path | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = _UNSET,
        timeout: Any = _UNSET,
    ) -> Any:
        query = {key: str(value) for key, value in drop_none(params or {}).items()}
        if directory is not None:
            query["directory"] = str(directory)
        exchange = Exchange(method, path, None if json is _UNSET else json)
        for watcher in self.watchers:
            watcher(exchange)
        phases = self._phases if timeout is _UNSET else phase_timeouts(timeout)
        data = None if json is _UNSET else jsonlib.dumps(json).encode()
        headers = self._headers if data is None else {**self._headers, "Content-Type": "application/json"}
        try:
            async with self._open_session().request(
                method, self._base_url + path, params=query, data=data, headers=headers, timeout=phases
            ) as response:
                status, raw = response.status, await response.read()
        except TimeoutError as exc:
            raise OpenCodeTimeout(f"{method} {path} timed out") from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:  # refused, or dropped
            raise OpenCodeUnavailable(f"OpenCode is unreachable at {self.base_url}: {exc}") from exc
        except aiohttp.ClientError as exc:
            raise OpenCodeError(f"{method} {path} failed: {exc}") from exc
        exchange.status, exchange.answer = status, decode(raw)
        for watcher in self.watchers:
            watcher(exchange)
        if status >= 400:
            raise error_from_response(status, exchange.answer, path)
        return exchange.answer

    @asynccontextmanager
    async def open_event_stream(self, path: str = "/global/event") -> AsyncIterator[AsyncIterator[str]]:
        """One SSE connection (no read timeout); yields an iterator of each event's data string."""
        timeout = httpx.Timeout(self._timeout, read=None)
        try:
            async with aconnect_sse(self._events, "GET", path, timeout=timeout) as source:
                if source.response.status_code >= 400:
                    answer = decode(await source.response.aread())
                    raise error_from_response(source.response.status_code, answer, path)

                async def data() -> AsyncIterator[str]:
                    async for sse in source.aiter_sse():
                        yield sse.data

                yield data()
        except httpx.TimeoutException as exc:
            raise OpenCodeTimeout(f"event stream {path} timed out") from exc
        except httpx.TransportError as exc:
            raise OpenCodeUnavailable(f"event stream {path} lost: {exc}") from exc
        except (httpx.HTTPError, SSEError) as exc:
            raise OpenCodeError(f"event stream {path} failed: {exc}") from exc


def decode(raw: bytes) -> Any:
    """An answer's JSON; its text when it is not JSON; None when empty."""
    if not raw:
        return None
    try:
        return jsonlib.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")
