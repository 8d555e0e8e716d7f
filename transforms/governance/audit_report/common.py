"""What every section shares: the period, and turning frames into JSON-ready rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from transforms.config import Environment
from transforms.delta_io import read_path


@dataclass(frozen=True)
class Period:
    """The calendar days `start` to `end`, both included, in UTC."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")

    @property
    def begins(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def ends(self) -> datetime:
        """The first moment after the period (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def within(self, column: str) -> pl.Expr:
        return (pl.col(column) >= self.begins) & (pl.col(column) < self.ends)

    def to_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def previous_month(today: date) -> Period:
    """The calendar month before the one `today` is in (what the monthly report covers)."""
    last = today.replace(day=1) - timedelta(days=1)
    return Period(last.replace(day=1), last)


def jsonable(value: Any) -> Any:
    """`value` with dates and times as ISO strings, tuples as lists (for `json.dumps`)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready rows."""
    return [jsonable(row) for row in frame.to_dicts()]


def read_ops(env: Environment, table: str, moment: str) -> pl.DataFrame | None:
    """An ops table (None before its first row), sorted by its `moment` column."""
    frame = read_path(env.table_path(table))
    if frame is None:
        return None
    return frame.sort(moment) if moment in frame.columns else frame


def in_period(frame: pl.DataFrame | None, column: str, period: Period) -> pl.DataFrame:
    """The rows of `frame` whose `column` falls within the period (empty when no table)."""
    if frame is None or column not in frame.columns:
        return pl.DataFrame()
    return frame.filter(period.within(column))
