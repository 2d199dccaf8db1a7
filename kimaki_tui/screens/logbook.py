"""The log as the Logs screen sees it: every line with its level, bounded, filterable fast.

Lines come from `kimaki_tui.logs.RingHandler` (one formatted record each, tracebacks included);
a record spanning several lines keeps its level on each. Lines are addressed by an absolute
index that stays valid while old lines are dropped from the front, so a filtered view can be
extended with new lines instead of recomputed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# LOG_FORMAT is "%(asctime)s %(levelname)-7s %(name)s: %(message)s"; asctime holds one space.
_LEVEL = re.compile(r"^\S+ \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")
LEVELS: tuple[tuple[str, int], ...] = (
    ("ALL", 0),
    ("DEBUG", logging.DEBUG),
    ("INFO", logging.INFO),
    ("WARNING", logging.WARNING),
    ("ERROR", logging.ERROR),
)


def level_of(record: str, default: int = logging.INFO) -> int:
    match = _LEVEL.match(record)
    return logging.getLevelNamesMapping()[match.group(1)] if match else default


class LogBook:
    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = max(1, capacity)
        self._levels: list[int] = []
        self._texts: list[str] = []
        self.dropped = 0  # absolute index of the first line kept

    @property
    def end(self) -> int:
        """The absolute index one past the newest line."""
        return self.dropped + len(self._texts)

    @property
    def size(self) -> int:
        """Lines kept."""
        return len(self._texts)

    def extend(self, records: Iterable[str]) -> None:
        for record in records:
            level = level_of(record)
            for line in record.split("\n"):
                self._levels.append(level)
                self._texts.append(line.replace("\t", "    "))
        overflow = len(self._texts) - self.capacity
        # Trim in chunks so that appending stays O(1) amortised.
        if overflow >= max(1, self.capacity // 10):
            del self._levels[:overflow]
            del self._texts[:overflow]
            self.dropped += overflow

    def width(self, indices: list[int]) -> int:
        """The longest of these lines, in characters."""
        texts, base = self._texts, self.dropped
        if len(indices) == len(texts):
            return max(map(len, texts), default=0)
        return max((len(texts[i - base]) for i in indices), default=0)

    def line(self, index: int) -> tuple[int, str]:
        local = index - self.dropped
        return self._levels[local], self._texts[local]

    def select(self, min_level: int, needle: str, start: int | None = None) -> list[int]:
        """Absolute indices from `start` on whose level is at least `min_level` and text contains `needle`."""
        first = max(self.dropped, start if start is not None else self.dropped) - self.dropped
        levels, texts = self._levels, self._texts
        needle = needle.lower()
        base = self.dropped
        if not needle:
            if min_level <= 0:
                return list(range(base + first, base + len(texts)))
            return [base + i for i in range(first, len(texts)) if levels[i] >= min_level]
        return [
            base + i
            for i in range(first, len(texts))
            if levels[i] >= min_level and needle in texts[i].lower()
        ]
