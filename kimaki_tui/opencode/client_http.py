"""The connection to one OpenCode server: one httpx.AsyncClient, its address and password, and the
one request path every call of the client goes through.

The client sends through aiohttp (`httpx-aiohttp`'s transport) rather than httpcore: a hundred
threads starting at once keep a hundred requests in flight, and httpcore's pool re-scans every
connection against every other each time one finishes (its CPU per request grew fivefold at that
concurrency, most of the bot's loop in such a burst); aiohttp's connector does not.

Every httpx failure is translated into the `errors` tree here, and every answer is decoded here
(4xx/5xx become typed errors). Requests are scoped to a project with `?directory=`. The supervisor
`rebind`s the connection after a restart (new port, new password); the event stream opens through
`open_event_stream`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
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


def timed_out(exc: httpx.TransportError) -> bool:
    """A timeout, not a refused or dropped connection: the aiohttp transport reports both of those
    as httpx.ConnectTimeout, with aiohttp's own error as the cause."""
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientError):
        return isinstance(cause, TimeoutError)
    return isinstance(exc, httpx.TimeoutException)


def drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def items_of(body: Any) -> list[Any]:
    """A list answer's items (an empty list for anything else)."""
    return list(body) if isinstance(body, list) else []


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
        self._http = httpx.AsyncClient(timeout=timeout, transport=AiohttpTransport())
        self.rebind(base_url, password)

    @property
    def base_url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    def rebind(self, base_url: str, password: str | None) -> None:
        """Point at a (re)started server: new port, new password."""
        self._http.base_url = httpx.URL(base_url)
        # A bare httpx.Auth passes requests through unchanged (no password, no auth header).
        self._http.auth = httpx.BasicAuth(self._username, password) if password else httpx.Auth()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

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
        query = drop_none(params or {})
        if directory is not None:
            query["directory"] = str(directory)
        kwargs: dict[str, Any] = {"params": query}
        if json is not _UNSET:
            kwargs["json"] = json
        if timeout is not _UNSET:
            kwargs["timeout"] = timeout
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            if timed_out(exc):
                raise OpenCodeTimeout(f"{method} {path} timed out") from exc
            raise OpenCodeUnavailable(f"OpenCode is unreachable at {self.base_url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise OpenCodeError(f"{method} {path} failed: {exc}") from exc
        return self._decode(response, path)

    @staticmethod
    def _decode(response: httpx.Response, path: str) -> Any:
        body: Any
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise error_from_response(response.status_code, body, path)
        return body

    @asynccontextmanager
    async def open_event_stream(self, path: str = "/global/event") -> AsyncIterator[AsyncIterator[str]]:
        """One SSE connection (no read timeout); yields an iterator of each event's data string."""
        timeout = httpx.Timeout(self._timeout, read=None)
        try:
            async with aconnect_sse(self._http, "GET", path, timeout=timeout) as source:
                if source.response.status_code >= 400:
                    await source.response.aread()
                    self._decode(source.response, path)  # raises the typed error

                async def data() -> AsyncIterator[str]:
                    async for sse in source.aiter_sse():
                        yield sse.data

                yield data()
        except httpx.TransportError as exc:
            if timed_out(exc):
                raise OpenCodeTimeout(f"event stream {path} timed out") from exc
            raise OpenCodeUnavailable(f"event stream {path} lost: {exc}") from exc
        except (httpx.HTTPError, SSEError) as exc:
            raise OpenCodeError(f"event stream {path} failed: {exc}") from exc
