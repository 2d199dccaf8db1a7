"""`--send-at WHEN`: a UTC date ending with Z (a one-shot task) or a cron expression (a recurring one).

Dates must be in UTC and in the future, so a script never schedules something in the past by
accident; cron expressions run in the user's local time zone (kept with the task).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from kimaki_tui.errors import KimakiError
from kimaki_tui.scheduling.cron import CronError, parse_cron

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?Z$")
_LOOKS_LIKE_DATE = re.compile(r"^\d{4}-")


class WhenError(KimakiError, ValueError):
    """`--send-at` could not be understood; the message says what to write instead."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a task runs: once at `run_at`, or on `cron` in `timezone`; `first_run` is the next time."""

    kind: Literal["at", "cron"]
    first_run: datetime
    run_at: datetime | None = None
    cron: str | None = None
    timezone: str | None = None

    def describe(self) -> str:
        if self.kind == "at":
            return f"once at {self.first_run.strftime('%Y-%m-%d %H:%M:%S')} UTC"
        return f"cron `{self.cron}` ({self.timezone})"


def local_timezone() -> str:
    """The IANA name of this machine's time zone (honours $TZ), UTC if it cannot be told."""
    import tzlocal

    try:
        return str(tzlocal.get_localzone_name() or "UTC")
    except Exception:  # tzlocal raises its own errors for broken /etc/localtime setups
        return "UTC"


def parse_when(text: str, *, now: datetime, timezone: str | None = None) -> Schedule:
    """Parse `--send-at`. `now` (aware) decides "in the future"; cron uses `timezone` or the local one."""
    value = text.strip()
    if not value:
        raise WhenError("--send-at is empty: give a UTC date like 2030-01-31T09:00:00Z or a cron expression")
    if _LOOKS_LIKE_DATE.match(value):
        return _one_shot(value, now)
    zone = timezone or local_timezone()
    try:
        cron = parse_cron(value, zone)
    except CronError as exc:
        raise WhenError(f"--send-at {value!r} is not a valid cron expression: {exc}") from None
    first = cron.next_after(now)
    if first is None:
        raise WhenError(f"--send-at {value!r} never fires")
    return Schedule("cron", first, cron=cron.expression, timezone=zone)


def _one_shot(value: str, now: datetime) -> Schedule:
    if not _DATE.match(value):
        raise WhenError(f"--send-at {value!r}: dates must be UTC and end with Z, like 2030-01-31T09:00:00Z")
    try:
        moment = datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError as exc:
        raise WhenError(f"--send-at {value!r} is not a real date: {exc}") from None
    if moment <= now:
        raise WhenError(f"--send-at {value!r} is in the past (it is now {now:%Y-%m-%dT%H:%M:%S}Z)")
    return Schedule("at", moment, run_at=moment)
