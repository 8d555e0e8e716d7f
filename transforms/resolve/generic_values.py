"""Generic values: identifiers held by more records than one person plausibly has.

A switchboard number, a care home's or hostel's address, a test passport number: held by the
records of hundreds of different people, such a value says nothing about who anyone is. Two
records sharing it are no more likely one person, and two records differing on it no less; two
people holding it are not connected. So a value held by more distinct records than its kind's
threshold (`generic_values` in catalogue/entity_resolution.yml) is

- listed in `gold.generic_values` with its counts, for stewards (`lakehouse quality`);
- removed from the silver rows the features are built from (`without_generic`), before blocking
  and scoring: it neither blocks records together nor weighs for or against a match, and a
  record whose only phone is a switchboard has no phone (unknown, not different);
- no ground for a `shared_address`, `shared_phone` or `called` link (`gold.entity_links`).

A value is named as features and links name it: a phone in E.164, an e-mail lower-cased, an
address as `address_line, postcode` (addresses with a postcode, as links take them), a document
as `document_type:document_number`. A record whose features lose a value when it turns generic
(or regain it when it stops being) has a new feature hash, so an incremental run re-scores it.
"""

from __future__ import annotations

import polars as pl

from transforms.contract import ADDRESS, DOCUMENT, EMAIL, PHONE, highest_classification
from transforms.resolve.config import GenericValues

KEYS = ["identifier_kind", "value"]
GENERIC_SCHEMA = {
    "identifier_kind": pl.String,
    "value": pl.String,
    "records": pl.Int64,
    "entities": pl.Int64,
    "threshold": pl.Int64,
    "classification": pl.String,
}
"""gold.generic_values (SCHEMA.md §3), classification the highest of the records holding it."""


def address_value() -> pl.Expr:
    """An address row's value, `address_line, postcode`; null without a postcode (as links)."""
    return (
        pl.when(pl.col("postcode").is_not_null())
        .then(pl.col("address_line").fill_null("") + ", " + pl.col("postcode"))
        .alias("value")
    )


def _email() -> pl.Expr:
    return pl.col("identifier").str.strip_chars().str.to_lowercase()


def identifier_value() -> tuple[pl.Expr, pl.Expr]:
    """A comms identifier row's kind and value (phone, or e-mail as features take it); else null."""
    phone = pl.col("identifier_type") == "phone"
    email = (pl.col("identifier_type") == "email") & _email().str.contains("@")
    kind = pl.when(phone).then(pl.lit(PHONE)).when(email).then(pl.lit(EMAIL))
    value = pl.when(phone).then(pl.col("identifier")).when(email).then(_email())
    return kind.alias("identifier_kind"), value.alias("value")


def document_value() -> pl.Expr:
    return (pl.col("document_type") + ":" + pl.col("document_number")).alias("value")


def identifier_values(
    persons: pl.DataFrame,
    addresses: pl.DataFrame,
    identifiers: pl.DataFrame,
    documents: pl.DataFrame,
) -> pl.DataFrame:
    """identifier_kind, value, record_key, classification: each value each record holds, once."""
    values = pl.concat(
        [
            addresses.select(
                pl.lit(ADDRESS).alias("identifier_kind"), address_value(), "record_key"
            ),
            identifiers.select(*identifier_value(), "record_key"),
            documents.select(
                pl.lit(DOCUMENT).alias("identifier_kind"), document_value(), "record_key"
            ),
        ]
    )
    return (
        values.drop_nulls()
        .unique()
        .join(persons.select("record_key", "classification"), on="record_key")
    )


def generic_holders(values: pl.DataFrame, thresholds: GenericValues) -> pl.DataFrame:
    """The rows of `values` whose value more records hold than its kind's threshold, with it."""
    limits = pl.DataFrame(
        list(thresholds.model_dump().items()),
        schema={"identifier_kind": pl.String, "threshold": pl.Int64},
        orient="row",
    )
    return (
        values.join(limits, on="identifier_kind")
        .filter(pl.col("record_key").n_unique().over(KEYS) > pl.col("threshold"))
        .sort(*KEYS, "record_key")
    )


def generic_values(holders: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """gold.generic_values: each generic value, the records and entities holding it, its threshold.

    `records` is gold.entity_records (record_key, entity_id); most records held first.
    """
    ids = records.select("record_key", "entity_id")
    return (
        holders.join(ids, on="record_key", how="left")
        .group_by(KEYS)
        .agg(
            pl.col("record_key").n_unique().alias("records"),
            pl.col("entity_id").drop_nulls().n_unique().alias("entities"),
            pl.col("threshold").first(),
            highest_classification("classification").alias("classification"),
        )
        .cast(GENERIC_SCHEMA)
        .select(list(GENERIC_SCHEMA))
        .sort(["records", *KEYS], descending=[True, False, False])
    )


def _kept(frame: pl.DataFrame, kind: str, generic: pl.DataFrame) -> pl.DataFrame:
    """`frame` (with a `value` column) without its rows holding a generic value of `kind`."""
    values = generic.filter(pl.col("identifier_kind") == kind).select("value").unique()
    return frame.join(values, on="value", how="anti", nulls_equal=False)


def without_generic(
    addresses: pl.DataFrame,
    identifiers: pl.DataFrame,
    documents: pl.DataFrame,
    generic: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The silver address, identifier and document rows that hold no generic value.

    `generic` has identifier_kind and value (gold.generic_values, or the holders). A record
    whose every phone is generic is left with no phone rows: unknown to the model.
    """
    if generic.height == 0:
        return addresses, identifiers, documents
    kind, value = identifier_value()
    kept_addresses = _kept(addresses.with_columns(address_value()), ADDRESS, generic)
    comms = identifiers.with_columns(kind.alias("__kind"), value)
    kept_comms = pl.concat(
        [_kept(comms.filter(pl.col("__kind") == k), k, generic) for k in (PHONE, EMAIL)]
        + [comms.filter(pl.col("__kind").is_null())]
    )
    kept_documents = _kept(documents.with_columns(document_value()), DOCUMENT, generic)
    return (
        kept_addresses.select(addresses.columns),
        kept_comms.select(identifiers.columns),
        kept_documents.select(documents.columns),
    )
