"""The normalisation rules as SQL functions: name, signature and result type of each.

Both engines register these same rules (duckdb_udfs.py, spark_udfs.py), so a value normalises
the same way whichever engine runs dbt. The rules underneath are memoised, so the many repeated
names, formats and postcodes of a bulk dataset are parsed once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import pyarrow as pa

from transforms.normalise.addresses import address_line, normalise_postcode, split_address
from transforms.normalise.dates import parse_birth
from transforms.normalise.names import parse_name
from transforms.normalise.phones import to_e164
from transforms.normalise.text import fold

T = TypeVar("T")


@dataclass(frozen=True)
class Udf:
    """A scalar rule and its SQL signature."""

    name: str
    rule: Callable[..., object]
    parameters: Sequence[str]
    returns: str
    arrow_type: pa.DataType


def _name(text: str | None, style: str) -> dict[str, str | None]:
    parsed = parse_name(text, style)
    return {**parsed._asdict(), "full_name": parsed.full_name}


def _birth(text: str | None, fmt: str) -> dict[str, object]:
    return parse_birth(text, fmt, date.today())._asdict()


def _split(text: str | None, country: str) -> dict[str, str | None]:
    return {**split_address(text, country or "GBR")._asdict(), "country": country or "GBR"}


def _each(values: Iterable[str | None] | None, rule: Callable[[str | None], T]) -> list[T] | None:
    return None if values is None else [rule(value) for value in values]


_NAME_TYPE = pa.struct(
    [
        ("given_name", pa.string()),
        ("middle_names", pa.string()),
        ("family_name", pa.string()),
        ("full_name", pa.string()),
    ]
)
_BIRTH_TYPE = pa.struct([("date_of_birth", pa.date32()), ("birth_year", pa.int32())])
_ADDRESS_TYPE = pa.struct(
    [
        ("address_line", pa.string()),
        ("town", pa.string()),
        ("postcode", pa.string()),
        ("country", pa.string()),
    ]
)

UDFS = (
    Udf(
        "parse_person_name",
        _name,
        ["VARCHAR", "VARCHAR"],
        "STRUCT(given_name VARCHAR, middle_names VARCHAR, family_name VARCHAR, full_name VARCHAR)",
        _NAME_TYPE,
    ),
    Udf(
        "parse_date_of_birth",
        _birth,
        ["VARCHAR", "VARCHAR"],
        "STRUCT(date_of_birth DATE, birth_year INTEGER)",
        _BIRTH_TYPE,
    ),
    Udf(
        "to_e164",
        lambda t, c: to_e164(t, c or "GBR"),
        ["VARCHAR", "VARCHAR"],
        "VARCHAR",
        pa.string(),
    ),
    Udf(
        "normalise_postcode",
        lambda t, c: normalise_postcode(t, c or "GBR"),
        ["VARCHAR", "VARCHAR"],
        "VARCHAR",
        pa.string(),
    ),
    Udf(
        "join_address",
        lambda a, b: address_line(a, b),
        ["VARCHAR", "VARCHAR"],
        "VARCHAR",
        pa.string(),
    ),
    Udf(
        "split_address",
        _split,
        ["VARCHAR", "VARCHAR"],
        "STRUCT(address_line VARCHAR, town VARCHAR, postcode VARCHAR, country VARCHAR)",
        _ADDRESS_TYPE,
    ),
    Udf("fold_text", fold, ["VARCHAR"], "VARCHAR", pa.string()),
    # List forms: Spark cannot call a Python function inside a SQL lambda, so lists of values
    # are normalised by one call per row on both engines.
    Udf(
        "fold_texts",
        lambda values: _each(values, fold),
        ["VARCHAR[]"],
        "VARCHAR[]",
        pa.list_(pa.string()),
    ),
    Udf(
        "to_e164s",
        lambda values, c: _each(values, lambda v: to_e164(v, c or "GBR")),
        ["VARCHAR[]", "VARCHAR"],
        "VARCHAR[]",
        pa.list_(pa.string()),
    ),
    Udf(
        "split_addresses",
        lambda values, c: _each(values, lambda v: _split(v, c)),
        ["VARCHAR[]", "VARCHAR"],
        "STRUCT(address_line VARCHAR, town VARCHAR, postcode VARCHAR, country VARCHAR)[]",
        pa.list_(_ADDRESS_TYPE),
    ),
)

UDFS_BY_NAME = {udf.name: udf for udf in UDFS}
