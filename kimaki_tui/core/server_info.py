"""Cached facts from the OpenCode server that turn footers need: context limits and git branch.

Looked up once per directory (limits) or at each prompt (branch), off the event path, so the
reducer's output can be completed synchronously. Prompts sent together in one directory share one
lookup, and one made in the last FRESH_FOR seconds is reused (a burst of a hundred threads is a
few requests, not a hundred). Failures leave the cache as it was.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from kimaki_tui.opencode.catalog import ProviderCatalog
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeError

log = logging.getLogger(__name__)

FRESH_FOR = 1.0  # seconds


class ServerFacts:
    def __init__(self, client: OpenCodeClient, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._looked_up: dict[str, float] = {}  # directory → when its last lookup began
        self._limits: dict[tuple[str, str], int] = {}
        self._limit_dirs: set[str] = set()
        self._branches: dict[str, str] = {}
        self._refreshing: dict[str, asyncio.Task[None]] = {}

    def context_limit(self, provider_id: str, model_id: str) -> int | None:
        return self._limits.get((provider_id, model_id))

    def branch(self, directory: str) -> str:
        return self._branches.get(directory, "")

    async def refresh(self, directory: str) -> None:
        """Look the directory's facts up, or wait for the lookup already under way there."""
        running = self._refreshing.get(directory)
        if running is None:
            began = self._looked_up.get(directory)
            if began is not None and self._clock() - began < FRESH_FOR:
                return
            self._looked_up[directory] = self._clock()
            running = asyncio.create_task(self._refresh(directory), name="kimaki-server-facts")
            self._refreshing[directory] = running
            running.add_done_callback(lambda done: self._finished(directory, done))
        # Shared: one caller cancelled (its prompt failed) must not cancel the others' lookup.
        await asyncio.shield(running)

    def _finished(self, directory: str, done: asyncio.Task[None]) -> None:
        if self._refreshing.get(directory) is done:
            del self._refreshing[directory]

    async def _refresh(self, directory: str) -> None:
        try:
            if directory not in self._limit_dirs:
                self._limits.update(_limits(await self._client.providers(directory)))
                self._limit_dirs.add(directory)
            self._branches[directory] = (await self._client.vcs(directory)).branch
        except OpenCodeError as exc:
            log.debug("could not refresh server facts for %s: %s", directory, exc)

    def forget(self) -> None:
        """The server restarted: its configuration may have changed."""
        self._limit_dirs.clear()
        self._looked_up.clear()


def _limits(catalog: ProviderCatalog) -> dict[tuple[str, str], int]:
    return {
        (provider.id, model.id): model.context_limit
        for provider in catalog.providers
        for model in provider.models
        if model.context_limit > 0
    }
