"""Cron strings of the catalogue and partner agreements, read with croniter."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

TICKS_MEASURED = 32  # enough ticks to see a weekday or quarterly cron's shortest gap
# Periods are measured from a fixed date, so definitions built from them never depend on the clock.
REFERENCE = datetime(2026, 1, 1)


def is_cron(text: str) -> bool:
    """A cron schedule as Dagster's schedules take it, checked by croniter: 5 fields with their
    names and ranges (`0 9 * * MON`, `*/15 * * * *`) or an alias such as `@daily`; no seconds
    field, and no day that never comes (`0 0 30 2 *`).
    """
    if not croniter.is_valid(text, strict=True):
        return False
    fields, _ = croniter.expand(text)
    return len(fields) == 5


def cron_period(cron: str, timezone: str = "UTC", *, now: datetime | None = None) -> timedelta:
    """The shortest gap between consecutive ticks.

    A delivery made within this period before a tick counts for that tick (Dagster's cron
    freshness policy takes at most the shortest interval, so no two ticks share one delivery).
    """
    start = now or REFERENCE.replace(tzinfo=ZoneInfo(timezone))
    ticks = croniter(cron, start)
    times = [ticks.get_next(datetime) for _ in range(TICKS_MEASURED)]
    return min(b - a for a, b in zip(times, times[1:], strict=False))
