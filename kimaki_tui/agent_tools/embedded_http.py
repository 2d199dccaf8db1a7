"""Runs an ASGI app with uvicorn inside the running asyncio loop, on a socket bound by the caller.

Embedded means: no signal handlers (the root owns SIGINT/SIGTERM), no logging configuration
(nothing may write to the terminal the TUI owns), a `ready` event instead of polling `started`,
and a bounded graceful shutdown (OpenCode keeps an SSE stream open that would otherwise hold it).
Imported only when the MCP server starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

SHUTDOWN_GRACE = 2  # seconds


class EmbeddedServer(uvicorn.Server):
    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app,
            lifespan="on",
            log_config=None,
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=SHUTDOWN_GRACE,
        )
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.ready.set()
