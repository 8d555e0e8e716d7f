"""The vectorised phone kinds agree with `phonenumbers.number_type` on every number."""

from __future__ import annotations

import phonenumbers
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneNumberFormat, PhoneNumberType

from transforms.normalise.phone_kinds import (
    BOTH,
    FIXED,
    MOBILE,
    kinds_with_phonenumbers,
    phone_kinds_frame,
)


def _fast(numbers: list[str]) -> dict[str, list[str]]:
    frame = phone_kinds_frame(pl.Series(numbers, dtype=pl.String))
    return {phone: sorted(kinds) for phone, kinds in frame.iter_rows()}


def _reference(numbers: list[str]) -> dict[str, list[str]]:
    return {n: sorted(kinds_with_phonenumbers.__wrapped__(n)) for n in set(numbers)}


def _example_numbers() -> list[str]:
    """The library's own example number of every type of every region, and one-digit variants."""
    numbers = []
    for regions in COUNTRY_CODE_TO_REGION_CODE.values():
        for region in regions:
            if region == "001":
                continue
            for kind in range(11):
                example = phonenumbers.example_number_for_type(region, kind)
                if example is None:
                    continue
                e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
                numbers.append(e164)
                numbers += [
                    e164[:i] + str((int(e164[i]) + 1) % 10) + e164[i + 1 :] for i in (-1, -3)
                ]
                numbers += [e164 + "1", e164[:-1]]
    return numbers


def test_every_example_number_of_every_region_is_classified_as_the_library_does() -> None:
    numbers = _example_numbers()
    assert len(numbers) > 5000
    assert _fast(numbers) == _reference(numbers)


codes = st.sampled_from(sorted(COUNTRY_CODE_TO_REGION_CODE))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(codes, st.text("0123456789", min_size=0, max_size=18)), max_size=40))
def test_random_numbers_are_classified_as_the_library_does(drawn: list[tuple[int, str]]) -> None:
    numbers = [f"+{code}{digits}" for code, digits in drawn]
    assert _fast(numbers) == _reference(numbers)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text("+0123456789 -()abc", max_size=20), max_size=20))
def test_numbers_in_other_forms_are_left_to_the_library(numbers: list[str]) -> None:
    assert _fast(numbers) == _reference(numbers)


def test_kinds_of_plain_uk_numbers() -> None:
    kinds = _fast(["+447911123456", "+442079460000", "+443001234567", "+44791"])
    assert kinds == {
        "+447911123456": [MOBILE],
        "+442079460000": [FIXED],
        "+443001234567": sorted(BOTH),  # a UAN number: no kind
        "+44791": sorted(BOTH),  # too short to be valid
    }
    assert phonenumbers.number_type(phonenumbers.parse("+447911123456")) == PhoneNumberType.MOBILE


def test_nulls_and_repeats_give_one_row_per_number() -> None:
    frame = phone_kinds_frame(pl.Series(["+447911123456", None, "+447911123456"], dtype=pl.String))
    assert frame.height == 1
