"""Postcodes and address lines.

UK postcodes are validated against the Royal Mail format and written `AA9A 9AA`; postcodes of
other countries are upper case without spaces. Address lines become one upper-case line.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from transforms.normalise.text import fold

# Royal Mail format rules (outward code letters and inward code letters that are allowed).
_UK_POSTCODE = re.compile(
    r"^(GIR0AA|[A-PR-UWYZ](?:[0-9][0-9]?|[A-HK-Y][0-9][0-9]?|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])"
    r"[0-9][ABD-HJLNP-UW-Z]{2})$"
)
_UK_POSTCODE_AT_END = re.compile(r"[\s,]*([A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s*[0-9][A-Za-z]{2})\s*$")
_PUNCTUATION = re.compile(r"[^A-Z0-9 \-/']")
_SUB_UNIT_FIRST = re.compile(r"^((?:FLAT|APARTMENT|APT|UNIT|ROOM)\s+\S+)\s+(\d.*)$")
# Royal Mail's standard thoroughfare abbreviations, written out so every dataset agrees.
STREET_TYPES = {
    "ST": "STREET",
    "RD": "ROAD",
    "AVE": "AVENUE",
    "AV": "AVENUE",
    "LN": "LANE",
    "CL": "CLOSE",
    "CRES": "CRESCENT",
    "DR": "DRIVE",
    "GDNS": "GARDENS",
    "GRN": "GREEN",
    "GR": "GROVE",
    "GRV": "GROVE",
    "PL": "PLACE",
    "SQ": "SQUARE",
    "TER": "TERRACE",
    "TERR": "TERRACE",
    "CT": "COURT",
    "WY": "WAY",
    "PDE": "PARADE",
    "HL": "HILL",
    "PK": "PARK",
}


@lru_cache(maxsize=500_000)
def normalise_postcode(text: str | None, country_alpha3: str = "GBR") -> str | None:
    """A valid UK postcode as `AA9A 9AA`; other countries upper case without spaces."""
    folded = fold(text)
    if folded is None:
        return None
    compact = re.sub(r"[^A-Z0-9]", "", folded)
    if country_alpha3 != "GBR":
        return compact or None
    if not _UK_POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


@lru_cache(maxsize=500_000)
def address_line(*parts: str | None) -> str | None:
    """Join address parts into one upper-case line, house number first, punctuation removed."""
    cleaned = []
    for part in parts:
        folded = fold(part)
        if folded:
            cleaned.append(re.sub(r"\s+", " ", _PUNCTUATION.sub(" ", folded)).strip())
    line = " ".join(c for c in cleaned if c)
    sub_unit = _SUB_UNIT_FIRST.match(line)
    if sub_unit:  # house number first: "FLAT 2 3 MILL LANE" -> "3 MILL LANE FLAT 2"
        line = f"{sub_unit.group(2)} {sub_unit.group(1)}"
    words = line.split(" ")
    return " ".join(STREET_TYPES.get(w, w) if i > 0 else w for i, w in enumerate(words)) or None


class SplitAddress(NamedTuple):
    address_line: str | None
    town: str | None
    postcode: str | None


@lru_cache(maxsize=500_000)
def split_address(text: str | None, country_alpha3: str = "GBR") -> SplitAddress:
    """One free-text address `12 High Street, Leeds LS1 4AB` -> line, town, postcode."""
    if text is None or not text.strip():
        return SplitAddress(None, None, None)
    rest, postcode = text.strip(), None
    match = _UK_POSTCODE_AT_END.search(rest)
    if match:
        postcode = normalise_postcode(match.group(1), country_alpha3)
        rest = rest[: match.start()]
    pieces = [p.strip() for p in rest.split(",") if p.strip()]
    town = fold(pieces.pop()) if len(pieces) > 1 else None
    return SplitAddress(address_line(*pieces), town, postcode)
