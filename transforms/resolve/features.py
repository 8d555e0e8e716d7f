"""The Splink input: one row per silver person record, with its postcodes and phones as arrays.

Arrays are null (not empty) when a record has no postcode or phone, so Splink treats the field
as unknown rather than as disagreement.

Names are compared on a canonical form (letters and spaces) so an MRZ's lost hyphen is no
difference; given names carry their nickname variants (the `nicknames` dataset) so BOB meets
ROBERT.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl
from nicknames import NickNamer

FEATURE_COLUMNS = [
    "unique_id",
    "source_dataset",
    "classification",
    "given_name",
    "middle_names",
    "family_name",
    "given_name_variants",
    "date_of_birth",
    "birth_year",
    "postcodes",
    "phones",
    "documents",
]


@lru_cache(maxsize=1)
def _nick_namer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=200_000)
def name_variants(given_name: str | None) -> tuple[str, ...]:
    """Formal names and nicknames directly related to `given_name`, upper case, itself excluded."""
    if not given_name or len(given_name) < 2:
        return ()
    lower = given_name.lower()
    namer = _nick_namer()
    related = namer.canonicals_of(lower) | namer.nicknames_of(lower)
    return tuple(sorted(v.upper() for v in related if v != lower))


def canonical_name(column: str) -> pl.Expr:
    """A name column as resolution compares it: letters and single spaces."""
    return (
        pl.col(column)
        .str.replace_all(r"[^A-Z ]", " ")
        .str.replace_all(r" +", " ")
        .str.strip_chars()
    )


def person_features(
    persons: pl.DataFrame,
    addresses: pl.DataFrame,
    identifiers: pl.DataFrame,
    documents: pl.DataFrame,
) -> pl.DataFrame:
    """Splink input frame from the silver tables."""
    postcodes = (
        addresses.filter(pl.col("postcode").is_not_null())
        .group_by("record_key")
        .agg(pl.col("postcode").unique().sort().alias("postcodes"))
    )
    phones = (
        identifiers.filter(pl.col("identifier_type") == "phone")
        .group_by("record_key")
        .agg(pl.col("identifier").unique().sort().alias("phones"))
    )
    document_numbers = documents.group_by("record_key").agg(
        (pl.col("document_type") + ":" + pl.col("document_number"))
        .unique()
        .sort()
        .alias("documents")
    )
    given = persons.get_column("given_name").unique().drop_nulls()
    variants = pl.DataFrame(
        {
            "given_name": given,
            "given_name_variants": [list(name_variants(n)) for n in given.to_list()],
        },
        schema={"given_name": pl.String, "given_name_variants": pl.List(pl.String)},
    )
    return (
        persons.select(
            pl.col("record_key").alias("unique_id"),
            "source_dataset",
            "classification",
            canonical_name("given_name").alias("given_name"),
            canonical_name("middle_names").alias("middle_names"),
            canonical_name("family_name").alias("family_name"),
            pl.col("date_of_birth").cast(pl.Date),
            pl.col("birth_year").cast(pl.Int64),
            pl.col("record_key"),
        )
        .join(variants, on="given_name", how="left")
        .join(postcodes, on="record_key", how="left")
        .join(phones, on="record_key", how="left")
        .join(document_numbers, on="record_key", how="left")
        .with_columns(
            pl.col("given_name_variants").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        )
        .select(FEATURE_COLUMNS)
        .sort("unique_id")
    )
