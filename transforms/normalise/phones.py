"""Phone numbers -> E.164 with phonenumbers, using the dataset's country as the default region."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
import pycountry
from phonenumbers import PhoneMetadata

_PLAIN = re.compile(r"\+?\d+")
_UNDECIDED = object()  # the fast path cannot tell: ask phonenumbers


@lru_cache(maxsize=64)
def region_of(country_alpha3: str) -> str | None:
    """ISO alpha-3 -> the alpha-2 region code phonenumbers expects."""
    country = pycountry.countries.get(alpha_3=country_alpha3.upper())
    return country.alpha_2 if country else None


@lru_cache(maxsize=500_000)
def to_e164(text: str | None, country_alpha3: str = "GBR") -> str | None:
    """A possible number in E.164 (`+447911123456`), or None when it cannot be a number.

    "Possible" (right length for the country) rather than "valid" (in an allocated range):
    bulk data holds numbers from ranges newer than the library's metadata, and dropping one
    would silently lose a link.
    """
    if text is None or not text.strip():
        return None
    region = region_of(country_alpha3)
    fast = _plain_e164(text, region)
    return e164_with_phonenumbers(text, region) if fast is _UNDECIDED else fast  # type: ignore[return-value]


def e164_with_phonenumbers(text: str, region: str | None) -> str | None:
    """The reference rule: phonenumbers parses, checks the length and formats (~70 µs a number)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class _Region:
    """What the fast path needs from phonenumbers' metadata for one region."""

    country_code: str
    national_prefix: str
    prefix_for_parsing: re.Pattern[str]
    international_prefix: re.Pattern[str]
    national_number: re.Pattern[str]
    lengths: frozenset[int]


@lru_cache(maxsize=256)
def _region(region: str | None) -> _Region | None:
    metadata = PhoneMetadata.metadata_for_region(region) if region else None
    if (
        metadata is None
        or not metadata.national_prefix
        or metadata.national_prefix_transform_rule
        or not metadata.general_desc.national_number_pattern
    ):
        return None
    return _Region(
        str(metadata.country_code),
        metadata.national_prefix,
        re.compile(metadata.national_prefix_for_parsing or metadata.national_prefix),
        re.compile(metadata.international_prefix or "(?!)"),
        re.compile(metadata.general_desc.national_number_pattern),
        frozenset(metadata.general_desc.possible_length),
    )


def _plain_e164(text: str, region: str | None) -> object:
    """The two forms bulk data mostly holds, decided without phonenumbers' full parser.

    `+<own country code><number>` and `<national prefix><number>`, digits and spaces only, where
    the number fits the region's national pattern and a possible length: then phonenumbers'
    answer is `+<code><number>` (tests/test_normalise.py checks this against phonenumbers).
    Anything else is _UNDECIDED.
    """
    rules = _region(region)
    compact = text.strip().replace(" ", "")
    if rules is None or not _PLAIN.fullmatch(compact):
        return _UNDECIDED
    if compact.startswith("+" + rules.country_code):
        national = compact[1 + len(rules.country_code) :]
    elif (
        compact.startswith(rules.national_prefix)
        and not compact.startswith(rules.country_code)
        and not rules.international_prefix.match(compact)
    ):
        national = compact[len(rules.national_prefix) :]
        matched = rules.prefix_for_parsing.match(compact)
        if matched is None or matched.end() != len(rules.national_prefix):
            return _UNDECIDED
    else:
        return _UNDECIDED
    if (
        not national
        or rules.prefix_for_parsing.match(national)
        or len(national) not in rules.lengths
        or not rules.national_number.fullmatch(national)
    ):
        return _UNDECIDED
    return f"+{rules.country_code}{national}"
