"""Standard five-field cron expressions, evaluated with apscheduler 3's CronTrigger.

apscheduler 3 departs from cron in two ways that matter here, so expressions are translated:
- its numeric day-of-week counts from Monday = 0, where cron has Sunday = 0 (and 7): numeric and
  named day-of-week fields are expanded to apscheduler's day names;
- it ANDs day-of-month and day-of-week, where cron fires when EITHER matches if both are
  restricted (neither starts with `*`): that case becomes two triggers and the earlier time wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from kimaki_tui.errors import KimakiError

FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_TRIGGER_ARGS = ("minute", "hour", "day", "month", "day_of_week")
ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# Cron's day numbers (Sunday = 0) to apscheduler's day names (it counts from Monday = 0).
_APS_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_NAMES = {name: number for number, name in enumerate(_APS_DAYS)}
_DOW_ITEM = re.compile(r"^(?P<range>\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/(?P<step>[0-9]+))?$")


class CronError(KimakiError, ValueError):
    """A malformed cron expression; the message names the field and what is wrong with it."""


@dataclass(frozen=True, slots=True)
class CronSchedule:
    expression: str
    timezone: str
    triggers: tuple[CronTrigger, ...]

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire time strictly after `moment`, in UTC (None if there is none)."""
        start = moment + timedelta(microseconds=1)
        times = [t.get_next_fire_time(None, start) for t in self.triggers]
        found = [time for time in times if time is not None]
        return min(found).astimezone(UTC) if found else None


def parse_cron(expression: str, timezone: str = "UTC") -> CronSchedule:
    """Check `expression` (five fields or an @alias) and build its schedule in `timezone`."""
    zone = _zone(timezone)
    text = " ".join(expression.split())
    fields = ALIASES.get(text.lower(), text).split(" ")
    if len(fields) != len(FIELDS):
        raise CronError(
            f"a cron expression has {len(FIELDS)} fields ({' '.join(FIELDS)}), "
            f"got {len(fields)} in {expression!r}"
        )
    values = dict(zip(_TRIGGER_ARGS, fields, strict=True))
    values["day_of_week"] = _day_of_week(values["day_of_week"])
    for arg, name in zip(_TRIGGER_ARGS, FIELDS, strict=True):
        _check_field(arg, name, values[arg], zone)
    dom, dow = fields[2], fields[4]
    if dom.startswith("*") or dow.startswith("*"):
        triggers: tuple[CronTrigger, ...] = (CronTrigger(**values, timezone=zone),)
    else:
        # Both restricted: cron fires on either (a day of the month OR a day of the week).
        triggers = (
            CronTrigger(**{**values, "day_of_week": "*"}, timezone=zone),
            CronTrigger(**{**values, "day": "*"}, timezone=zone),
        )
    return CronSchedule(text, timezone, triggers)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"unknown time zone {name!r}") from None


def _check_field(arg: str, name: str, value: str, zone: ZoneInfo) -> None:
    try:
        CronTrigger(**{arg: value}, timezone=zone)
    except ValueError as exc:
        raise CronError(f"bad {name} field {value!r}: {exc}") from None


def _day_of_week(field: str) -> str:
    """Cron's day-of-week field as apscheduler day names ("*" stays as is)."""
    if field == "*":
        return field
    days: set[int] = set()
    for item in field.lower().split(","):
        days |= _dow_item(item, field)
    return ",".join(_APS_DAYS[day] for day in (1, 2, 3, 4, 5, 6, 0) if day in days)


def _dow_item(item: str, field: str) -> set[int]:
    match = _DOW_ITEM.match(item)
    if match is None:
        raise CronError(f"bad day-of-week field {field!r}: cannot read {item!r}")
    step = int(match["step"]) if match["step"] else 1
    if step < 1:
        raise CronError(f"bad day-of-week field {field!r}: a step must be at least 1")
    if match["range"] == "*":
        first, last = 0, 6
    else:
        low, _, high = match["range"].partition("-")
        first = _day_number(low, field)
        # "5/2" means from Friday on, every second day (as in cron); "5" alone is one day.
        last = _day_number(high, field) if high else (7 if match["step"] else first)
        if last < first:
            raise CronError(f"bad day-of-week field {field!r}: the range {item!r} runs backwards")
    return {day % 7 for day in range(first, last + 1, step)}


def _day_number(text: str, field: str) -> int:
    if text.isdigit():
        number = int(text)
        if number > 7:
            raise CronError(
                f"bad day-of-week field {field!r}: {number} is not a day (0-7, 0 and 7 are Sunday)"
            )
        return number
    if text[:3] in _DAY_NAMES and len(text) == 3:
        return _DAY_NAMES[text]
    raise CronError(f"bad day-of-week field {field!r}: {text!r} is not a day (0-7 or sun-sat)")
