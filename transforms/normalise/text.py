"""Text folding used by every rule: accents folded, upper case, single spaces."""

from __future__ import annotations

import re

from unidecode import unidecode

_SPACES = re.compile(r"\s+")
_NOT_NAME = re.compile(r"[^A-Z' \-]")


def fold(text: str | None) -> str | None:
    """Upper-case ASCII with accents folded and whitespace collapsed; empty becomes None."""
    if text is None:
        return None
    ascii_text = text if text.isascii() else unidecode(text)  # unidecode is identity on ASCII
    folded = _SPACES.sub(" ", ascii_text.upper()).strip()
    return folded or None


def name_part(text: str | None) -> str | None:
    """A name component: folded, only letters, apostrophes, hyphens and spaces."""
    folded = fold(text)
    if folded is None:
        return None
    cleaned = _SPACES.sub(" ", _NOT_NAME.sub("", folded.replace(".", " "))).strip()
    return cleaned or None
