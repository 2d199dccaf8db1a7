"""Discord's limit on renaming a thread: two name changes per ten minutes per thread; a third is
answered with a 429 (and recorded as a violation: the bot should have waited)."""

from __future__ import annotations

import time

RENAME_LIMIT = 2
RENAME_WINDOW = 600.0


class RenameLimit:
    def __init__(self, limit: int = RENAME_LIMIT, window: float = RENAME_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._times: dict[int, list[float]] = {}

    def take(self, thread_id: int) -> float | None:
        """Count a rename of the thread: None when allowed, else the seconds to wait."""
        now = time.monotonic()
        recent = [t for t in self._times.get(thread_id, []) if now - t < self.window]
        self._times[thread_id] = recent
        if len(recent) >= self.limit:
            return recent[-self.limit] + self.window - now
        recent.append(now)
        return None
