"""Releases OpenCode's in-memory instances of projects nobody is using.

OpenCode keeps every project directory it has served in memory, each with a file watcher that
holds one of the user's inotify instances; Linux allows 128 per user by default. A kimaki that runs
for weeks over many projects and worktrees would use them all, and from then on a project new to
OpenCode waits forever on its first prompt (and other programs of the user lose file watching).
So a directory that has had no prompt for `idle_seconds` (and has no busy or waiting conversation)
is disposed: its sessions stay on disk and the next prompt boots a fresh instance (about 0.3 s).
Use is counted from prompts sent (`PromptDispatched` on the bus), not from OpenCode's events,
which keep arriving for a while after a turn and after a dispose.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from kimaki_tui.core.events import PromptDispatched
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeError

log = logging.getLogger(__name__)

_MAX_INTERVAL = 300.0  # seconds between sweeps at most


class Conversation(Protocol):
    """What the keeper reads of a session runtime."""

    thread_id: str
    directory: str

    @property
    def busy(self) -> bool: ...

    def waiting(self) -> bool: ...


class InstanceKeeper:
    """Feed it the bus (`on_event`); `await sweep()` disposes directories unused for long enough,
    once per spell of disuse; `run()` sweeps until cancelled."""

    def __init__(
        self,
        client: OpenCodeClient,
        conversations: Callable[[], Iterable[Conversation]],
        idle_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._conversations = conversations
        self._idle = idle_seconds
        self._clock = clock
        self._used: dict[str, float] = {}  # directory → when a prompt last went there (not released)

    @property
    def enabled(self) -> bool:
        return self._idle > 0

    def on_event(self, event: object) -> None:
        if not isinstance(event, PromptDispatched):
            return
        runtime = next((c for c in self._conversations() if c.thread_id == event.thread_id), None)
        if runtime is not None:
            self._used[runtime.directory] = self._clock()

    def idle_directories(self) -> list[str]:
        """Directories with an instance kimaki used, unused for `idle_seconds`, nobody busy or waiting."""
        active = {c.directory for c in self._conversations() if c.busy or c.waiting()}
        deadline = self._clock() - self._idle
        return [d for d, used in self._used.items() if used <= deadline and d not in active]

    async def sweep(self) -> list[str]:
        """Dispose every idle directory's instance; returns the directories released."""
        released = []
        for directory in self.idle_directories():
            try:
                await self._client.dispose_instance(directory)
            except OpenCodeError as exc:  # unreachable or restarting: the next sweep tries again
                log.debug("could not release OpenCode's instance of %s: %s", directory, exc)
                continue
            self._used.pop(directory, None)  # until the next prompt there
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
