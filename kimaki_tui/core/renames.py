"""The rename budget of a chat thread: Discord lets a thread be renamed at most twice per ten
minutes, so later titles wait for the next free slot, and only the newest of them is applied."""

from __future__ import annotations

import time
from collections.abc import Callable

RENAME_LIMIT = 2
RENAME_WINDOW = 600.0


class RenameBudget:
    def __init__(
        self,
        limit: int = RENAME_LIMIT,
        window: float = RENAME_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._spent: dict[str, list[float]] = {}

    def delay(self, key: str) -> float:
        """Seconds until `key` may be renamed (0: now)."""
        recent = self._recent(key)
        if len(recent) < self.limit:
            return 0.0
        return max(0.0, recent[-self.limit] + self.window - self._clock())

    def spend(self, key: str) -> None:
        self._recent(key).append(self._clock())

    def _recent(self, key: str) -> list[float]:
        now = self._clock()
        kept = [t for t in self._spent.get(key, []) if now - t < self.window]
        self._spent[key] = kept
        return kept
