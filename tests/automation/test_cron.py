"""Standard cron semantics on top of apscheduler 3, and `--send-at` parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kimaki_tui.scheduling.cron import CronError, parse_cron
from kimaki_tui.scheduling.when import WhenError, parse_when

# 2025-01-01 was a Wednesday.
WEDNESDAY = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def fires(expression: str, count: int = 3, start: datetime = WEDNESDAY, zone: str = "UTC") -> list[datetime]:
    schedule = parse_cron(expression, zone)
    found: list[datetime] = []
    moment = start
    for _ in range(count):
        following = schedule.next_after(moment)
        assert following is not None
        found.append(following)
        moment = following
    return found


@pytest.mark.parametrize("sunday", ["0", "7", "sun", "SUN"])
def test_zero_and_seven_are_sunday(sunday: str) -> None:
    times = fires(f"0 9 * * {sunday}", 2)
    assert [t.strftime("%A %H:%M") for t in times] == ["Sunday 09:00", "Sunday 09:00"]
    assert times[0].date().isoformat() == "2025-01-05"


def test_ranges_steps_and_lists_of_days() -> None:
    assert {t.strftime("%a") for t in fires("30 8 * * 1-5", 10)} == {"Mon", "Tue", "Wed", "Thu", "Fri"}
    assert {t.strftime("%a") for t in fires("0 0 * * 5-7", 6)} == {"Fri", "Sat", "Sun"}
    assert {t.strftime("%a") for t in fires("0 0 * * */2", 8)} == {"Sun", "Tue", "Thu", "Sat"}
    assert {t.strftime("%a") for t in fires("0 0 * * sat,0", 4)} == {"Sat", "Sun"}
    assert {t.strftime("%a") for t in fires("0 0 * * mon-wed", 6)} == {"Mon", "Tue", "Wed"}


def test_day_of_month_or_day_of_week_when_both_are_restricted() -> None:
    # Cron: the 13th of the month OR any Friday (not only Friday the 13th).
    days = [t.date().isoformat() for t in fires("0 0 13 * 5", 4)]
    assert days == ["2025-01-03", "2025-01-10", "2025-01-13", "2025-01-17"]
    # With a "*" in one of them, both must match: every Monday in January only.
    assert [t.day for t in fires("0 0 * 1 1", 4)] == [6, 13, 20, 27]


def test_minutes_hours_aliases_and_time_zones() -> None:
    assert fires("*/15 * * * *", 2) == [WEDNESDAY + timedelta(minutes=15), WEDNESDAY + timedelta(minutes=30)]
    assert fires("@hourly", 1) == [WEDNESDAY + timedelta(hours=1)]
    assert fires("@weekly", 1)[0].strftime("%A %H:%M") == "Sunday 00:00"
    # 09:00 in Paris is 08:00 UTC in winter.
    assert fires("0 9 * * *", 1, zone="Europe/Paris") == [datetime(2025, 1, 2, 8, 0, tzinfo=UTC)]
    # "Strictly after": a time exactly on a slot gives the next slot.
    assert fires("0 12 * * *", 1) == [WEDNESDAY + timedelta(days=1)]


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("0 9 * *", "has 5 fields"),
        ("61 * * * *", "bad minute field '61'"),
        ("0 24 * * *", "bad hour field '24'"),
        ("0 0 0 * *", "bad day-of-month field '0'"),
        ("0 0 * 13 *", "bad month field '13'"),
        ("0 0 * * 8", "bad day-of-week field '8'"),
        ("0 0 * * funday", "bad day-of-week field 'funday'"),
        ("0 0 * * 5-1", "runs backwards"),
        ("x 0 * * *", "bad minute field 'x'"),
    ],
)
def test_malformed_expressions_name_the_field(expression: str, says: str) -> None:
    with pytest.raises(CronError, match=says):
        parse_cron(expression)


def test_unknown_time_zone() -> None:
    with pytest.raises(CronError, match="unknown time zone"):
        parse_cron("0 0 * * *", "Mars/Olympus")


def test_send_at_dates_and_cron() -> None:
    now = WEDNESDAY
    once = parse_when("2025-01-01T12:00:05Z", now=now)
    assert (once.kind, once.first_run, once.run_at) == (
        "at",
        now + timedelta(seconds=5),
        now + timedelta(seconds=5),
    )
    precise = parse_when("2025-01-01T12:30:00.250Z", now=now)
    assert precise.first_run == datetime(2025, 1, 1, 12, 30, 0, 250000, tzinfo=UTC)
    cron = parse_when("0 9 * * 0", now=now, timezone="UTC")
    assert (cron.kind, cron.cron, cron.timezone) == ("cron", "0 9 * * 0", "UTC")
    assert cron.first_run == datetime(2025, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2025-01-01T11:59:59Z", "is in the past"),
        ("2025-01-01T12:00:00Z", "is in the past"),
        ("2025-01-02T09:00:00", "must be UTC and end with Z"),
        ("2025-01-02T09:00:00+01:00", "must be UTC and end with Z"),
        ("2025-02-30T09:00:00Z", "not a real date"),
        ("every day at nine", "not a valid cron expression"),
        ("   ", "is empty"),
    ],
)
def test_bad_send_at_values(text: str, says: str) -> None:
    with pytest.raises(WhenError, match=says):
        parse_when(text, now=WEDNESDAY, timezone="UTC")
