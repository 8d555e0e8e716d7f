"""Person names in each delivered style -> (given, middle, family), upper-case and folded.

The style of a column is declared in its catalogue entry (`columns[].format`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from nameparser import HumanName

from transforms.normalise.text import name_part

NAME_STYLES = (
    "forename_middle_surname",
    "surname_comma_initial",
    "surname_comma_forenames",
    "title_forename_surname",
    "mrz",
)


class ParsedName(NamedTuple):
    given_name: str | None
    middle_names: str | None
    family_name: str | None

    @property
    def full_name(self) -> str | None:
        parts = [p for p in self if p]
        return " ".join(parts) or None


EMPTY = ParsedName(None, None, None)


@lru_cache(maxsize=500_000)
def parse_name(text: str | None, style: str) -> ParsedName:
    """Parse one name written in `style`; unparseable input gives all-None."""
    if text is None or not text.strip():
        return EMPTY
    if style not in NAME_STYLES:
        raise ValueError(f"unknown name style {style!r}; expected one of {NAME_STYLES}")
    if style == "mrz":
        return _parse_mrz(text)
    if style.startswith("surname_comma") and "," not in text:
        style = "forename_middle_surname"  # a delivery that forgot the comma
    human = HumanName(text)
    return ParsedName(name_part(human.first), name_part(human.middle), name_part(human.last))


def _parse_mrz(text: str) -> ParsedName:
    """Machine-readable zone: `SURNAME<<GIVEN<NAMES`, `<` standing for a space."""
    family, _, given = text.strip().partition("<<")
    names = [n for n in given.split("<") if n]
    return ParsedName(
        name_part(names[0]) if names else None,
        name_part(" ".join(names[1:])) if len(names) > 1 else None,
        name_part(family.replace("<", " ")),
    )
