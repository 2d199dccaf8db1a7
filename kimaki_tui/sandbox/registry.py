"""Several OpenCode servers, one registry: which server serves which thread, resumed on demand.

The core asks `server(key)` for the thread's running server (its client, its restart
callbacks) and gets it started or resumed first; concurrent asks for one key share one start.
`on_started` callbacks run after every (re)start, e.g. to connect the core's event stream to
that server. Pause, destroy and the state of each sandbox go through the backend.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from kimaki_tui.sandbox.api import (
    DestroyOutcome,
    RunningServer,
    SandboxBackend,
    SandboxError,
    SandboxHandle,
    SandboxSpec,
    SandboxState,
)

log = logging.getLogger(__name__)

StartedCallback = Callable[[str, RunningServer], Awaitable[None]]
StoppingCallback = Callable[[str], Awaitable[None]]


class ServerRegistry:
    def __init__(self, backend: SandboxBackend) -> None:
        self.backend = backend
        self.on_started: list[StartedCallback] = []
        self.on_stopping: list[StoppingCallback] = []
        self._handles: dict[str, SandboxHandle] = {}
        self._servers: dict[str, RunningServer] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.last_used: dict[str, float] = {}  # monotonic time of the last `server()` per key
        self._callers: dict[str, int] = {}  # `server()` calls under way per key

    async def open(self, spec: SandboxSpec) -> SandboxHandle:
        """Create (or adopt, after a restart) the sandbox for `spec.key`; nothing starts yet."""
        handle = await self.backend.create(spec)
        self._handles[spec.key] = handle
        return handle

    def handle(self, key: str) -> SandboxHandle | None:
        return self._handles.get(key)

    def running(self, key: str) -> RunningServer | None:
        """The thread's server if it runs now (never starts one)."""
        return self._servers.get(key)

    def touch(self, key: str) -> None:
        """Count `key`'s sandbox as used now (someone is writing in its thread): not idle yet."""
        if key in self._handles:
            self.last_used[key] = time.monotonic()

    async def server(self, key: str) -> RunningServer:
        """The thread's running server, started or resumed first if needed."""
        self.last_used[key] = time.monotonic()
        # Until its caller has it, the server is not idle, however long its start and the
        # on_started callbacks take (pause_if_idle checks this under the key's lock).
        self._callers[key] = self._callers.get(key, 0) + 1
        try:
            return await self._server(key)
        finally:
            self._callers[key] -= 1
            self.last_used[key] = time.monotonic()

    async def _server(self, key: str) -> RunningServer:
        async with self._lock(key):
            handle = self._handle(key)
            server = self._servers.get(key)
            if server is not None and await self.backend.status(handle) == SandboxState.RUNNING:
                return server
            server = await self.backend.start(handle)  # a server that gave up is started anew
            self._servers[key] = server
        for callback in list(self.on_started):
            try:
                await callback(key, server)
            except Exception:
                log.exception("on_started callback for sandbox %s failed", key)
        return server

    async def pause(self, key: str) -> None:
        """Stop the thread's server; its sessions stay on disk for the next `server()`."""
        async with self._lock(key):
            if self._servers.pop(key, None) is not None:
                await self._stopping(key)
            await self.backend.stop(self._handle(key))

    async def pause_if_idle(self, key: str, idle: float) -> bool:
        """Pause the thread's server if nothing asked for it in the last `idle` seconds; checked
        under the key's lock, so a `server()` just asked for is never stopped under its caller."""
        async with self._lock(key):
            if self._servers.get(key) is None or self._callers.get(key, 0) > 0:
                return False
            if time.monotonic() - self.last_used.get(key, 0.0) < idle:
                return False
            self._servers.pop(key)
            await self._stopping(key)
            await self.backend.stop(self._handle(key))
            return True

    async def destroy(self, key: str) -> DestroyOutcome:
        async with self._lock(key):
            if self._servers.pop(key, None) is not None:
                await self._stopping(key)
            outcome = await self.backend.destroy(self._handle(key))
        self._handles.pop(key, None)
        self.last_used.pop(key, None)
        return outcome

    async def state(self, key: str) -> SandboxState:
        handle = self._handles.get(key)
        return await self.backend.status(handle) if handle else SandboxState.DESTROYED

    async def states(self) -> dict[str, SandboxState]:
        return {key: await self.backend.status(handle) for key, handle in list(self._handles.items())}

    async def aclose(self) -> None:
        for key in list(self._servers):
            await self._stopping(key)
        self._servers.clear()
        await self.backend.aclose()

    def _handle(self, key: str) -> SandboxHandle:
        handle = self._handles.get(key)
        if handle is None:
            raise SandboxError(f"no sandbox is open for {key}.")
        return handle

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    async def _stopping(self, key: str) -> None:
        for callback in list(self.on_stopping):
            try:
                await callback(key)
            except Exception:
                log.exception("on_stopping callback for sandbox %s failed", key)
