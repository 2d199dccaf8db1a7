"""Releases OpenCode's in-memory instances of projects nobody is using.

OpenCode keeps every project directory it has served in memory, each with a file watcher that
holds one of the user's inotify instances; Linux allows 128 per user by default. A kimaki that runs
for weeks over many projects and worktrees would use them all, and from then on a project new to
OpenCode waits forever on its first prompt (and other programs of the user lose file watching).
So a directory whose conversations have all been idle for `idle_seconds` is disposed: its sessions
stay on disk and the next message boots a fresh instance (about 0.3 s).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeError

log = logging.getLogger(__name__)

_MAX_INTERVAL = 300.0  # seconds between sweeps at most


class Conversation(Protocol):
    """What the keeper reads of a session runtime."""

    directory: str
    last_activity: float

    @property
    def busy(self) -> bool: ...

    def waiting(self) -> bool: ...


class InstanceKeeper:
    """`await sweep()` disposes the idle directories once per idle spell; `run()` sweeps forever."""

    def __init__(
        self,
        client: OpenCodeClient,
        conversations: Callable[[], Iterable[Conversation]],
        idle_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._conversations = conversations
        self._idle = idle_seconds
        self._clock = clock
        self._released: dict[str, float] = {}  # directory → its last activity when released

    @property
    def enabled(self) -> bool:
        return self._idle > 0

    def idle_directories(self) -> dict[str, float]:
        """{directory: last activity} for directories idle long enough and not released since."""
        latest: dict[str, float] = {}
        active: set[str] = set()
        for conversation in self._conversations():
            directory = conversation.directory
            if conversation.busy or conversation.waiting():
                active.add(directory)
            latest[directory] = max(latest.get(directory, 0.0), conversation.last_activity)
        deadline = self._clock() - self._idle
        return {
            directory: last
            for directory, last in latest.items()
            if directory not in active and last <= deadline and self._released.get(directory) != last
        }

    async def sweep(self) -> list[str]:
        """Dispose every idle directory's instance; returns the directories released."""
        released = []
        for directory, last in self.idle_directories().items():
            try:
                await self._client.dispose_instance(directory)
            except OpenCodeError as exc:  # unreachable or restarting: the next sweep tries again
                log.debug("could not release OpenCode's instance of %s: %s", directory, exc)
                continue
            self._released[directory] = last
            released.append(directory)
        if released:
            log.info("released OpenCode's idle project instance(s): %s", ", ".join(released))
        return released

    async def run(self) -> None:
        """Sweep every quarter of the idle time (at most every 5 minutes) until cancelled."""
        if not self.enabled:
            return
        interval = min(self._idle / 4, _MAX_INTERVAL)
        while True:
            await asyncio.sleep(interval)
            await self.sweep()
