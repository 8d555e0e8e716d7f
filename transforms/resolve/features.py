"""The Splink input: one row per silver person record, its addresses and identifiers as arrays.

Arrays are null (not empty) when a record has no value for them, so Splink treats the field
as unknown (its null level: no evidence either way) rather than as disagreement.

An address is compared in parts, as the data carries it: postcode, house number and street
(`address_keys` "12 HIGH STREET", `streets` "HIGH STREET" for fuzzy agreement) and town, so a
record with a street but no postcode, or a town alone, still counts. Silver address lines are
already house number first with thoroughfare types written out (transforms/normalise).

Names are compared on a canonical form (letters and spaces) so an MRZ's lost hyphen is no
difference; given names carry their nickname variants (the `nicknames` dataset) so BOB meets
ROBERT.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl
from nicknames import NickNamer

from transforms.normalise.phone_kinds import phone_kinds_frame

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
    "phone_kinds",
    "documents",
    "address_keys",
    "streets",
    "towns",
    "emails",
]
# The columns `person_features` reads of the person, address, identifier and document rows (in
# that order): what a record's input hash is taken over (feature_inputs.py).
INPUT_COLUMNS = (
    (
        "source_dataset",
        "classification",
        "given_name",
        "middle_names",
        "family_name",
        "date_of_birth",
        "birth_year",
    ),
    ("postcode", "address_line", "town"),
    ("identifier_type", "identifier"),
    ("document_type", "document_number"),
)
# Columns added after subjects of bulk search were shaped (search.py); absent ones are null.
ADDRESS_AND_EMAIL_COLUMNS = {
    "phone_kinds": pl.List(pl.String),
    "address_keys": pl.List(pl.String),
    "streets": pl.List(pl.String),
    "towns": pl.List(pl.String),
    "emails": pl.List(pl.String),
}
# A sub-unit written after the street ("3 MILL LANE FLAT 2") is not part of the street.
_SUB_UNIT = r"\s+(?:FLAT|APARTMENT|APT|UNIT|ROOM)\b.*$"
_HOUSE_NUMBER = r"^(\d+[A-Z]?)\s+"


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


def record_phone_kinds(phones: pl.DataFrame, key: str) -> pl.DataFrame:
    """`key`, phone_kinds: the kinds of each row's `phones` list (rows without phones left out)."""
    kinds = phone_kinds_frame(phones["phones"].explode())
    return (
        phones.select(key, "phones")
        .explode("phones")
        .join(kinds, left_on="phones", right_on="phone")
        .explode("kinds")
        .group_by(key)
        .agg(pl.col("kinds").unique().sort().alias("phone_kinds"))
    )


def with_all_feature_columns(features: pl.DataFrame) -> pl.DataFrame:
    """`features` with every FEATURE_COLUMNS column: phone kinds from its phones, others null.

    For inputs shaped before the address, e-mail and phone-kind columns existed (bulk search
    subjects): a column left null is unknown to the model, never evidence against.
    """
    missing = {c: t for c, t in ADDRESS_AND_EMAIL_COLUMNS.items() if c not in features.columns}
    if "phone_kinds" in missing:
        features = features.with_row_index("__row")
        kinds = record_phone_kinds(features.select("__row", pl.col("phones")), "__row")
        features = features.join(kinds, on="__row", how="left").drop("__row")
        del missing["phone_kinds"]
    return features.with_columns(pl.lit(None, dtype=t).alias(c) for c, t in missing.items()).select(
        FEATURE_COLUMNS
    )


def _list_of(column: str) -> pl.Expr:
    return pl.col(column).drop_nulls().unique().sort()


def address_parts(addresses: pl.DataFrame) -> pl.DataFrame:
    """record_key, address_keys (house number and street), streets, towns: null when none."""
    line = pl.col("address_line").str.replace(_SUB_UNIT, "").str.strip_chars()
    number = line.str.extract(_HOUSE_NUMBER, 1)
    street = (
        line.str.replace(_HOUSE_NUMBER, "")
        .str.replace_all(r"[^A-Z ]", " ")
        .str.replace_all(r" +", " ")
        .str.strip_chars()
    )
    parts = addresses.select(
        "record_key",
        pl.when(street != "").then(street).alias("street"),
        pl.when(number.is_not_null() & (street != ""))
        .then(number + " " + street)
        .alias("address_key"),
        pl.when(pl.col("town").str.strip_chars() != "")
        .then(pl.col("town").str.strip_chars())
        .alias("town"),
    )
    grouped = parts.group_by("record_key").agg(
        _list_of("address_key").alias("address_keys"),
        _list_of("street").alias("streets"),
        _list_of("town").alias("towns"),
    )
    return grouped.with_columns(
        pl.when(pl.col(c).list.len() > 0).then(pl.col(c)).alias(c)
        for c in ("address_keys", "streets", "towns")
    )


def person_features(
    persons: pl.DataFrame,
    addresses: pl.DataFrame,
    identifiers: pl.DataFrame,
    documents: pl.DataFrame,
) -> pl.DataFrame:
    """Splink input frame from the silver tables.

    Each frame is narrowed to `INPUT_COLUMNS` first, so the input hash (feature_inputs.py) is
    taken over exactly what is read here: reading another column fails until it is listed.
    """
    persons, addresses, identifiers, documents = (
        frame.select("record_key", *columns)
        for frame, columns in zip(
            (persons, addresses, identifiers, documents), INPUT_COLUMNS, strict=True
        )
    )
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
    phones = phones.join(record_phone_kinds(phones, "record_key"), on="record_key", how="left")
    emails = (
        identifiers.filter(pl.col("identifier_type") == "email")
        .with_columns(pl.col("identifier").str.strip_chars().str.to_lowercase())
        .filter(pl.col("identifier").str.contains("@"))
        .group_by("record_key")
        .agg(pl.col("identifier").unique().sort().alias("emails"))
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
        .join(address_parts(addresses), on="record_key", how="left")
        .join(emails, on="record_key", how="left")
        .with_columns(
            pl.col("given_name_variants").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        )
        .select(FEATURE_COLUMNS)
        .sort("unique_id")
    )
