"""The core's one OpenCode client when threads run in sandboxes: each call goes to the server of
the directory it names (a sandboxed worktree → that thread's server, resumed first if paused;
anything else → the shared server).

Every call the core makes names the session's directory, so routing by directory needs no change
in the core. Listing what is pending or running in a paused sandbox answers "nothing" instead of
resuming it, and releasing a paused sandbox's project is a no-op: only real work wakes a sandbox.
A destroyed sandbox's directory is retired: listings answer "nothing", anything else raises
SandboxGone (never the shared server, which would run the thread unsandboxed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.sandbox.api import SandboxGone
from kimaki_tui.sandbox.registry import ServerRegistry

ResumingCallback = Callable[[str], Awaitable[None]]
# Read-only listings answered empty for a paused sandbox (nothing can run or wait in it).
_IDLE_ANSWERS: dict[str, Any] = {"/session/status": {}, "/permission": [], "/question": []}


class RoutedClient(OpenCodeClient):
    def __init__(self, shared: OpenCodeClient, registry: ServerRegistry) -> None:
        # No super().__init__(): this client owns no connection, it forwards every request.
        self._shared = shared
        self._timeout = 30.0  # health()'s default
        self._registry = registry
        self._keys: dict[str, str] = {}  # sandboxed worktree → sandbox key
        self._retired: dict[str, str] = {}  # a destroyed sandbox's worktree → why it is gone
        self.on_resuming: list[ResumingCallback] = []

    def route(self, directory: str | Path, key: str) -> None:
        self._keys[str(directory)] = key

    def forget(self, key: str) -> None:
        self._keys = {d: k for d, k in self._keys.items() if k != key}

    def retire(self, key: str, reason: str) -> None:
        """The sandbox `key` is being destroyed: calls about its directory fail with `reason`."""
        for directory in [d for d, k in self._keys.items() if k == key]:
            self.retire_directory(directory, reason)
        self.forget(key)

    def retire_directory(self, directory: str | Path, reason: str) -> None:
        self._retired[str(directory)] = reason

    def key_of(self, directory: str | Path | None) -> str | None:
        return None if directory is None else self._keys.get(str(directory))

    @property
    def base_url(self) -> str:
        return self._shared.base_url

    def rebind(self, base_url: str, password: str | None) -> None:
        self._shared.rebind(base_url, password)

    def open_event_stream(self, path: str = "/global/event") -> Any:
        return self._shared.open_event_stream(path)

    async def aclose(self) -> None:
        """Nothing to close: the shared client and the sandboxes' belong to their servers."""

    async def dispose_instance(self, directory: str | Path) -> bool:
        key = self.key_of(directory)
        if key is not None and self._registry.running(key) is None:
            return True  # a paused sandbox holds no instance
        return await super().dispose_instance(directory)

    async def _request(
        self, method: str, path: str, *, directory: str | Path | None = None, **kw: Any
    ) -> Any:
        key = self.key_of(directory)
        if key is None:
            if directory is not None and (reason := self._retired.get(str(directory))):
                if method == "GET" and path in _IDLE_ANSWERS:
                    return _IDLE_ANSWERS[path]
                raise SandboxGone(reason)
            return await self._shared._request(method, path, directory=directory, **kw)
        if self._registry.running(key) is None:
            if method == "GET" and path in _IDLE_ANSWERS:
                return _IDLE_ANSWERS[path]
            for callback in list(self.on_resuming):
                await callback(key)
        server = await self._registry.server(key)
        return await server.client._request(method, path, directory=directory, **kw)
