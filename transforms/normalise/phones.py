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
    """A valid number in E.164 (`+447911123456`), or None when it is not a valid number."""
    if text is None or not text.strip():
        return None
    try:
        number = phonenumbers.parse(text, region_of(country_alpha3))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
