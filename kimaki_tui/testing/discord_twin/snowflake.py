"""Discord snowflake ids for the twin: monotonic, unique, and parsed leniently from strings or ints."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

DISCORD_EPOCH_MS = 1420070400000


class SnowflakeGen:
    """Makes ids the way Discord does: `(ms - epoch) << 22 | worker << 17 | counter`, always increasing."""

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker & 0x1F
        self._counter = 0
        self._last = 0

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        self._counter = (self._counter + 1) & 0x1FFFF
        value = (ms << 22) | (self._worker << 17) | self._counter
        # Two ids in the same millisecond after a counter wrap must still increase.
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value


def snowflake_time(snowflake: int) -> dt.datetime:
    """The creation time encoded in an id."""
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def iso(moment: dt.datetime) -> str:
    """Discord's ISO-8601 timestamp format."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def now_iso() -> str:
    return iso(dt.datetime.now(dt.UTC))


def parse_id(value: Any) -> int | None:
    """An id from a path or JSON body: Discord sends strings, clients may send ints."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
