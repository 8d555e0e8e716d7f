"""Dates of birth in each delivered format -> (date, birth year).

Formats are strftime patterns from the catalogue. Two-digit years are pivoted so a date of
birth is never in the future; dates before 1900 or after today are treated as invalid.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

EARLIEST = date(1900, 1, 1)


class ParsedBirth(NamedTuple):
    date_of_birth: date | None
    birth_year: int | None


UNKNOWN = ParsedBirth(None, None)


@lru_cache(maxsize=200_000)
def parse_birth(text: str | None, fmt: str, today: date | None = None) -> ParsedBirth:
    """Parse `text` with `fmt`; a format without a day (e.g. `%m/%Y`) gives only the year."""
    if text is None or not text.strip():
        return UNKNOWN
    try:
        parsed = datetime.strptime(text.strip(), fmt).date()
    except ValueError:
        return UNKNOWN
    today = today or date.today()
    if "%y" in fmt and parsed > today:
        parsed = parsed.replace(year=parsed.year - 100)
    if not EARLIEST <= parsed <= today:
        return UNKNOWN
    if "%d" not in fmt:
        return ParsedBirth(None, parsed.year)
    return ParsedBirth(parsed, parsed.year)
