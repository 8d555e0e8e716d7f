"""How values are written: the shared formatting vocabulary the dataset builders choose from.

All helpers return polars expressions or Series so they run vectorised over whole columns.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
import pyarrow as pa

from transforms.generate import names as N
from transforms.generate.rand import mix64


def titlecase(expr: pl.Expr) -> pl.Expr:
    """Mixed-case name as a clerk would type it: SMITH-JONES -> Smith-Jones, O'BRIEN -> O'Brien."""
    return expr.str.to_titlecase()


def per_distinct(series: pl.Series, transform: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """Apply a string transform to the distinct values only, then map back: names come from
    small vocabularies, so this is far cheaper than transforming a million rows."""
    distinct = series.drop_nulls().unique(maintain_order=True)
    mapped = pl.select(transform(pl.lit(distinct))).to_series()
    return series.replace_strict(distinct, mapped, default=None, return_dtype=pl.String)


# Latin-1 letters that Unicode does not decompose into a base letter plus an accent.
_NO_DECOMPOSITION = {
    "Ø": "O",
    "ø": "o",
    "Æ": "AE",
    "æ": "ae",
    "ß": "SS",
    "Ð": "D",
    "ð": "d",
    "Þ": "TH",
    "þ": "th",
}


def ascii_upper(expr: pl.Expr) -> pl.Expr:
    """Upper-case ASCII: accents folded (MÜLLER -> MULLER, SØREN -> SOREN)."""
    return (
        expr.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.replace_many(_NO_DECOMPOSITION)
        .str.to_uppercase()
    )


def mrz(expr: pl.Expr) -> pl.Expr:
    """Machine-readable-zone text: A-Z, spaces and hyphens as '<', apostrophes dropped. Digits
    are kept (clean names have none; an OCR misreading, hostile profile, reads O as 0)."""
    return ascii_upper(expr).str.replace_all(r"['.]", "").str.replace_all(r"[^A-Z0-9]", "<")


def mobile_national(e164: pl.Expr) -> pl.Expr:
    """+447700900123 -> 07700900123."""
    return pl.concat_str([pl.lit("0"), e164.str.slice(3)])


def mobile_spaced(e164: pl.Expr) -> pl.Expr:
    """+447700900123 -> 07700 900123."""
    national = mobile_national(e164)
    return pl.concat_str([national.str.slice(0, 5), pl.lit(" "), national.str.slice(5)])


def phone_variant(e164: pl.Expr, choice: pl.Expr, used: tuple[int, ...] = (0, 1, 2, 3)) -> pl.Expr:
    """One of four common ways to write a UK mobile, chosen per row (0..3); only the forms in
    `used` are computed."""
    forms = {
        1: lambda: mobile_national(e164),
        2: lambda: mobile_spaced(e164),
        3: lambda: e164.str.slice(1),  # 447700900123, no plus
    }
    out = e164
    for form in sorted(set(used) - {0}, reverse=True):
        out = pl.when(choice == form).then(forms[form]()).otherwise(out)
    return out


def postcode_variant(postcode: pl.Expr, choice: pl.Expr) -> pl.Expr:
    """0 as issued ("LS1 4AB"), 1 without the space, 2 lower case, 3 double space."""
    return (
        pl.when(choice == 1)
        .then(postcode.str.replace(" ", "", literal=True))
        .when(choice == 2)
        .then(postcode.str.to_lowercase())
        .when(choice == 3)
        .then(postcode.str.replace(" ", "  ", literal=True))
        .otherwise(postcode)
    )


def street_line(
    number: pl.Expr, street: pl.Expr, street_type: pl.Expr, abbreviate: pl.Expr
) -> pl.Expr:
    """ "12 High Street", or "12 High St" where `abbreviate` is true."""
    short = street_type.replace_strict(N.STREET_ABBREVIATIONS, default=street_type)
    return pl.format(
        "{} {} {}", number, street, pl.when(abbreviate).then(short).otherwise(street_type)
    )


def with_flat(flat: pl.Expr, line: pl.Expr) -> pl.Expr:
    """ "Flat 3, 12 High Street" (or just the street line)."""
    return pl.when(flat.is_not_null()).then(pl.format("{}, {}", flat, line)).otherwise(line)


def one_line_address(line: pl.Expr, town: pl.Expr, postcode: pl.Expr) -> pl.Expr:
    """ "12 High Street, Leeds LS1 4AB"."""
    return pl.format("{}, {} {}", line, town, postcode)


def strftime(expr: pl.Expr, fmt: str) -> pl.Expr:
    """Format a date with the contract's own strftime pattern."""
    return expr.dt.strftime(fmt)


def hex_id(values: np.ndarray, salt: int, prefix: str = "") -> pl.Series:
    """Opaque identifiers, unique because the hash of (value xor salt) is a bijection; 16 hex.

    Built as one hex buffer wrapped in an Arrow string array, with no per-row Python work.
    """
    hashed = mix64(values.astype(np.uint64) ^ np.uint64(salt))
    text = hashed.astype(">u8").tobytes().hex().upper().encode("ascii")
    offsets = np.arange(0, 16 * (len(hashed) + 1), 16, dtype=np.int32)
    array = pa.StringArray.from_buffers(len(hashed), pa.py_buffer(offsets), pa.py_buffer(text))
    ids = pl.Series(pl.from_arrow(array)).cast(pl.String)
    return pl.select(pl.concat_str([pl.lit(prefix), pl.lit(ids)])).to_series() if prefix else ids
