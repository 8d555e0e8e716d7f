"""Person names in each delivered style -> (given, middle, family), upper-case and folded.

The style of a column is declared in its catalogue entry (`columns[].format`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from nameparser import HumanName
from nameparser.config import CONSTANTS

from transforms.normalise.text import fold, name_part

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
    folded = fold(text)  # accents and case out first: more names take the fast path
    if folded is None:
        return EMPTY
    plain = _parse_plain(folded)
    if plain is not None:
        return plain
    human = HumanName(folded)
    return ParsedName(name_part(human.first), name_part(human.middle), name_part(human.last))


_PLAIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z'-]+|[A-Z]")  # a word, or an upper-case initial
_SPECIAL = (CONSTANTS.regexes.roman_numeral, CONSTANTS.regexes.turkic_patronymic_marker)


def _lowered(*groups: object) -> frozenset[str]:
    return frozenset(word.lower() for group in groups for word in group)  # type: ignore[attr-defined]


@lru_cache(maxsize=1)
def _other_roles() -> frozenset[str]:
    """Words nameparser gives a role other than title (suffixes, particles, conjunctions)."""
    return _lowered(
        CONSTANTS.suffix_acronyms,
        CONSTANTS.suffix_not_acronyms,
        CONSTANTS.prefixes,
        CONSTANTS.conjunctions,
        CONSTANTS.first_name_titles,
    )


@lru_cache(maxsize=1)
def _reserved_words() -> frozenset[str]:
    """Every word nameparser gives a role (titles, suffixes, particles, conjunctions)."""
    return _lowered(CONSTANTS.titles) | _other_roles()


@lru_cache(maxsize=200_000)
def _is_plain_word(word: str) -> bool:
    return bool(
        _PLAIN_TOKEN.fullmatch(word)
        and word.lower() not in _reserved_words()
        and not any(rule.match(word) for rule in _SPECIAL)
    )


def _plain_words(text: str) -> list[str] | None:
    words = text.split()
    return words if all(_is_plain_word(w) for w in words) else None


@lru_cache(maxsize=1)
def _plain_titles() -> frozenset[str]:
    """Titles (MR, MRS, DR...) that have no other role in nameparser's vocabulary."""
    return _lowered(CONSTANTS.titles) - _other_roles()


def _after_one_title(text: str) -> list[str] | None:
    """`MR JOHN A SMITH`: one leading title, then at least two plain words."""
    title, _, rest = text.strip().partition(" ")
    words = _plain_words(rest)
    if title.lower() in _plain_titles() and words and len(words) >= 2:
        return words
    return None


def _parse_plain(text: str) -> ParsedName | None:
    """The common case without nameparser, which costs ~0.3 ms a name.

    A name made only of plain words (letters, hyphens, apostrophes; no title, suffix, particle
    or conjunction), after at most one leading title, parses as nameparser would: first word
    given, last family, the rest middle; `FAMILY, GIVEN MIDDLE` with one comma likewise. Anything else returns None and goes to
    nameparser, so the result never differs from it (tests/test_normalise.py checks). `text` is
    already folded (upper-case ASCII), so plain words are already what name_part would make.
    """
    family_part, comma, given_part = text.partition(",")
    if comma:
        if "," in given_part:
            return None
        family, given = _plain_words(family_part), _plain_words(given_part)
        if not family or not given:
            return None
        return ParsedName(
            given[0],
            " ".join(given[1:]) if len(given) > 1 else None,
            " ".join(family),
        )
    words = _plain_words(text)
    if not words:
        words = _after_one_title(text)
    if not words:
        return None
    if len(words) == 1:
        return ParsedName(words[0], None, None)
    return ParsedName(
        words[0],
        " ".join(words[1:-1]) if len(words) > 2 else None,
        words[-1],
    )


def _parse_mrz(text: str) -> ParsedName:
    """Machine-readable zone: `SURNAME<<GIVEN<NAMES`, `<` standing for a space."""
    family, _, given = text.strip().partition("<<")
    names = [n for n in given.split("<") if n]
    return ParsedName(
        name_part(names[0]) if names else None,
        name_part(" ".join(names[1:])) if len(names) > 1 else None,
        name_part(family.replace("<", " ")),
    )
