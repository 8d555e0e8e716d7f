"""Build the gold tables (SCHEMA.md §3) from clusters, edges and silver."""

from __future__ import annotations

import polars as pl

from transforms.contract import (
    ADDRESS,
    CALLED,
    CLASSIFICATION_RANK,
    PHONE,
    SHARED_ADDRESS,
    SHARED_PHONE,
    highest_classification,
)
from transforms.contract import RANK_TO_CLASS as RANK_TO_CLASS  # re-exported
from transforms.resolve.generic_values import address_value
from transforms.resolve.match_keys import comparison_names, match_key_expr


def entity_records(
    assigned: pl.DataFrame, features: pl.DataFrame, edges: pl.DataFrame
) -> pl.DataFrame:
    """entity_id, record_key, source_dataset, cluster_match_probability (best edge inside the entity)."""
    ids = assigned.select("record_key", "entity_id")
    inside = (
        edges.join(ids.rename({"record_key": "unique_id_l", "entity_id": "e_l"}), on="unique_id_l")
        .join(ids.rename({"record_key": "unique_id_r", "entity_id": "e_r"}), on="unique_id_r")
        .filter(pl.col("e_l") == pl.col("e_r"))
    )
    best = (
        pl.concat(
            [
                inside.select(pl.col("unique_id_l").alias("record_key"), "match_probability"),
                inside.select(pl.col("unique_id_r").alias("record_key"), "match_probability"),
            ]
        )
        .group_by("record_key")
        .agg(pl.col("match_probability").max().alias("cluster_match_probability"))
    )
    return (
        ids.join(
            features.select(
                pl.col("unique_id").alias("record_key"), "source_dataset", "classification"
            ),
            on="record_key",
        )
        .join(best, on="record_key", how="left")
        .select(
            "entity_id",
            "record_key",
            "source_dataset",
            "cluster_match_probability",
            "classification",
        )
        .sort("entity_id", "record_key")
    )


def _mode(column: str, where: pl.Expr | None = None) -> pl.Expr:
    values = pl.col(column) if where is None else pl.col(column).filter(where)
    return values.drop_nulls().mode().sort().first()


def entities(records: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """One row per entity: its best name and date of birth, sizes, datasets, classification."""
    joined = records.join(
        persons.select("record_key", "given_name", "family_name", "date_of_birth"),
        on="record_key",
        how="left",
    )
    return (
        joined.group_by("entity_id")
        .agg(
            _mode("given_name", pl.col("given_name").str.len_chars() > 1).alias("given_name"),
            _mode("family_name").alias("family_name"),
            _mode("date_of_birth").alias("date_of_birth"),
            pl.len().cast(pl.Int64).alias("record_count"),
            pl.col("source_dataset").unique().sort().alias("datasets"),
            highest_classification("classification").alias("classification"),
        )
        .sort("entity_id")
    )


def _shared(values: pl.DataFrame, key: str, link_type: str) -> pl.DataFrame:
    """Links between distinct entities that share a value (address or phone)."""
    per_value = values.unique(["entity_id", key])
    pairs = per_value.join(per_value, on=key, suffix="_b").filter(
        pl.col("entity_id") < pl.col("entity_id_b")
    )
    return (
        pairs.sort(key)  # once, not per group (as for calls in entity_links)
        .group_by("entity_id", "entity_id_b")
        .agg(
            pl.len().cast(pl.Float64).alias("weight"),
            pl.col(key).alias("evidence"),
            highest_classification("classification").alias("classification"),
            highest_classification("classification_b").alias("classification_b"),
        )
        .select(
            pl.col("entity_id").alias("entity_id_a"),
            pl.col("entity_id_b"),
            pl.lit(link_type).alias("link_type"),
            "weight",
            pl.col("evidence").list.join("; "),
            pl.max_horizontal(
                pl.col("classification").replace_strict(CLASSIFICATION_RANK, return_dtype=pl.Int64),
                pl.col("classification_b").replace_strict(
                    CLASSIFICATION_RANK, return_dtype=pl.Int64
                ),
            )
            .replace_strict(RANK_TO_CLASS, return_dtype=pl.String)
            .alias("classification"),
        )
    )


def _not_generic(values: pl.DataFrame, key: str, kind: str, generic: pl.DataFrame) -> pl.DataFrame:
    listed = generic.filter(pl.col("identifier_kind") == kind).select(pl.col("value").alias(key))
    return values.join(listed.unique(), on=key, how="anti")


def entity_links(
    records: pl.DataFrame,
    addresses: pl.DataFrame,
    identifiers: pl.DataFrame,
    events: pl.DataFrame,
    generic: pl.DataFrame,
) -> pl.DataFrame:
    """shared_address, shared_phone and called links between entities, with their evidence.

    A value in `generic` (gold.generic_values: identifier_kind, value) links nobody: a care
    home's address, or a switchboard number, neither shared nor as a call's end. That is the
    one rule for over-shared values; the number of entities holding a value is not another
    (it depends on the clustering the links sit beside, and a household's landline stays a
    link however its members were resolved).
    """
    ids = records.select("record_key", "entity_id")
    address_values = _not_generic(
        addresses.filter(pl.col("postcode").is_not_null())
        .join(ids, on="record_key")
        .select(
            "entity_id",
            address_value().alias("address"),
            "classification",
        ),
        "address",
        ADDRESS,
        generic,
    )
    phones = identifiers.filter(pl.col("identifier_type") == "phone").join(ids, on="record_key")
    phone_values = _not_generic(
        phones.select("entity_id", pl.col("identifier").alias("phone"), "classification"),
        "phone",
        PHONE,
        generic,
    )
    owners = phone_values.unique(["entity_id", "phone"])
    calls = (
        events.filter(pl.col("caller").is_not_null() & pl.col("callee").is_not_null())
        .join(
            owners.select(
                pl.col("phone").alias("caller"), pl.col("entity_id").alias("entity_id_a")
            ),
            on="caller",
        )
        .join(
            owners.select(
                pl.col("phone").alias("callee"), pl.col("entity_id").alias("entity_id_b")
            ),
            on="callee",
        )
        .filter(pl.col("entity_id_a") != pl.col("entity_id_b"))
        # Sorted once, so each pair's first five event keys are its lowest: a sort per group
        # and a string join per group cost 2.5 s at 1M people.
        .sort("event_key")
        .group_by("entity_id_a", "entity_id_b")
        .agg(
            pl.len().alias("__calls"),
            pl.col("duration_s").sum().alias("__seconds"),
            pl.col("event_key").head(5).alias("__first"),
            highest_classification("classification").alias("classification"),
        )
        .with_columns(
            pl.col("__calls").cast(pl.Float64).alias("weight"),
            (
                pl.col("__calls").cast(pl.String)
                + " calls, "
                + pl.col("__seconds").cast(pl.String)
                + " s; "
                + pl.col("__first").list.join(" ")
            ).alias("evidence"),
        )
        .select(
            "entity_id_a",
            "entity_id_b",
            pl.lit(CALLED).alias("link_type"),
            "weight",
            "evidence",
            "classification",
        )
    )
    links = pl.concat(
        [
            _shared(address_values, "address", SHARED_ADDRESS),
            _shared(phone_values, "phone", SHARED_PHONE),
            calls,
        ]
    )
    return links.sort("link_type", "entity_id_a", "entity_id_b")


def entity_evidence(edges: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """Every scored pair with each comparison's match weight, its match key and the entities of
    both records."""
    ids = records.select("record_key", "entity_id")
    return (
        edges.join(
            ids.rename({"record_key": "unique_id_l", "entity_id": "entity_id_l"}),
            on="unique_id_l",
            how="left",
        )
        .join(
            ids.rename({"record_key": "unique_id_r", "entity_id": "entity_id_r"}),
            on="unique_id_r",
            how="left",
        )
        .rename({"unique_id_l": "record_key_l", "unique_id_r": "record_key_r"})
        .with_columns(
            (pl.col("entity_id_l") == pl.col("entity_id_r")).alias("same_entity"),
            match_key_expr(comparison_names(edges)).alias("match_key"),
        )
        .sort("record_key_l", "record_key_r")
    )
