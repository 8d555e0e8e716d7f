"""The bronze format check's regex accepts what strptime accepts (property-tested against the
stdlib, in Python's `re` and in RE2, the engine GX's pandas path uses through pyarrow)."""

from __future__ import annotations

import re
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.catalogue import load_catalogue
from transforms.config import get_environment
from transforms.quality.strftime_regex import strftime_regex
from transforms.quality.suites import is_strftime

FORMATS = sorted(
    {
        str(column.format)
        for dataset in load_catalogue(get_environment().catalogue_dir).values()
        for column in dataset.columns
        if is_strftime(column.format)
    }
    | {"%d %b %Y", "%B %d, %Y", "%Y%m%dT%H%M%S.%f", "%j/%y", "%I:%M  %d-%m-%Y", "100%% %Y"}
)


def matches(values: list[str], regex: str) -> list[bool]:
    """Both engines, which must agree."""
    in_python = [re.search(regex, v) is not None for v in values]
    in_re2 = pc.match_substring_regex(pa.array(values, pa.string()), regex).to_pylist()
    assert in_python == in_re2, (regex, values)
    return in_python


@settings(max_examples=200, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)))
def test_every_written_date_matches(moment: datetime) -> None:
    for fmt in FORMATS:
        regex = strftime_regex(fmt)
        assert regex is not None, fmt
        assert matches([moment.strftime(fmt)], regex) == [True], (fmt, moment)


def parse_error(value: str, fmt: str) -> str | None:
    try:
        datetime.strptime(value, fmt)
    except ValueError as error:
        return str(error)
    return None


@settings(max_examples=400, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)),
    fmt=st.sampled_from(FORMATS),
    edits=st.lists(
        st.tuples(st.integers(0, 30), st.sampled_from(list("0123456789/-:. Tx")) | st.just("")),
        max_size=2,
    ),
)
def test_regex_and_strptime_agree_but_on_the_calendar(
    moment: datetime, fmt: str, edits: list[tuple[int, str]]
) -> None:
    """A written date with a character or two replaced or removed: strptime parses it exactly
    when the regex matches it, but for a day the month does not have."""
    text = moment.strftime(fmt)
    for position, char in edits:
        position %= len(text) + 1
        text = text[:position] + char + text[position + 1 :]
    regex = strftime_regex(fmt)
    assert regex is not None
    error = parse_error(text, fmt)
    if error is None:
        assert matches([text], regex) == [True], (text, fmt)
    elif matches([text], regex)[0]:
        assert "out of range" in error, (text, fmt, error)


def test_other_forms_fail_and_the_calendar_is_not_checked() -> None:
    regex = strftime_regex("%m/%d/%Y")
    assert regex is not None
    values = ["01/31/1980", "1/5/1980", "1980-01-31", "31.01.1980", "13/01/1980", "02/31/1980"]
    assert matches(values, regex) == [True, True, False, False, False, True]
    assert "out of range" in str(
        parse_error("02/31/1980", "%m/%d/%Y")
    )  # a value error, left to silver's parse


def test_a_directive_it_cannot_translate_keeps_the_strftime_check() -> None:
    assert strftime_regex("%a %d/%m/%Y") is None
    assert strftime_regex("%d/%m/%Y %p") is None
    assert strftime_regex("%Y-%m-%d %") is None
