"""Phone numbers -> E.164 with phonenumbers, using the dataset's country as the default region."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
import pycountry


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
    try:
        number = phonenumbers.parse(text, region_of(country_alpha3))
    except phonenumbers.NumberParseException:
        return None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
