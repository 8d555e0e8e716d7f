"""The shared contract (SCHEMA.md §2, §3) in one place: tables, keys, link types, classifications.

Every module that names a silver or gold table, a table's key column, a link type or a
classification level imports it from here. `dbt_project/models/silver/_silver.yml` cannot import
Python; `tests/test_contract.py` checks that it says the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

import polars as pl

# --- tables ---------------------------------------------------------------------------------

SILVER_TABLES: tuple[str, ...] = (
    "person_records",
    "addresses",
    "comms_identifiers",
    "document_identifiers",
    "comms_events",
)
"""The silver tables dbt builds and write-audit-publish publishes, in publication order."""

CHILDREN_OF_PERSONS: tuple[str, ...] = ("addresses", "comms_identifiers", "document_identifiers")
"""Silver tables whose rows belong to a `person_records` row (by `record_key`): a quarantined
person takes its rows in these tables with it."""

LINEAGE_CHECKED: tuple[str, ...] = ("person_records", "comms_events")
"""Silver tables whose every row is traced back to its bronze row before publication."""

GOLD_TABLES: tuple[str, ...] = (
    "entities",
    "entity_records",
    "entity_links",
    "entity_evidence",
    "generic_values",
)
"""The gold tables one resolution run publishes."""

AUDITED_GOLD: tuple[str, ...] = ("entity_records", "entities", "entity_links")
"""The gold tables audited before publication, in audit order (lineage-checked records first);
the rest of `GOLD_TABLES` is published only when all of these were."""

TABLE_KEYS: dict[str, str] = {
    "person_records": "record_key",
    "addresses": "record_key",
    "comms_identifiers": "record_key",
    "document_identifiers": "record_key",
    "comms_events": "event_key",
    "entity_records": "record_key",
    "entities": "entity_id",
    "entity_links": "entity_id_a",
}
"""The column that names a row of each audited table (quarantine, failing-row samples)."""


def table_key(table: str) -> str:
    """The key column of a silver or gold table (`<layer>.` prefix allowed)."""
    return TABLE_KEYS[table.split(".")[-1]]


# --- link types -----------------------------------------------------------------------------

LinkType = Literal["shared_address", "shared_phone", "called"]
LINK_TYPES: tuple[str, ...] = get_args(LinkType)
SHARED_ADDRESS, SHARED_PHONE, CALLED = LINK_TYPES

# --- identifier kinds (gold.generic_values) -------------------------------------------------

IdentifierKind = Literal["phone", "address", "email", "document"]
IDENTIFIER_KINDS: tuple[str, ...] = get_args(IdentifierKind)
PHONE, ADDRESS, EMAIL, DOCUMENT = IDENTIFIER_KINDS

# --- classifications ------------------------------------------------------------------------

Classification = Literal["OFFICIAL", "SECRET", "TOP_SECRET"]
CLASSIFICATIONS: tuple[str, ...] = get_args(Classification)
"""Classification levels, lowest first."""
CLASSIFICATION_RANK: dict[str, int] = {level: rank for rank, level in enumerate(CLASSIFICATIONS)}
RANK_TO_CLASS: dict[int, str] = {rank: level for level, rank in CLASSIFICATION_RANK.items()}
LOWEST: str = CLASSIFICATIONS[0]
HIGHEST: str = CLASSIFICATIONS[-1]
ABOVE_ALL: int = len(CLASSIFICATIONS)
"""The rank of a missing or unknown classification: above every clearance."""


def rank_expr(column: str | pl.Expr) -> pl.Expr:
    """Classification rank; a missing or unknown classification ranks above every clearance."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.replace_strict(
        CLASSIFICATION_RANK, default=ABOVE_ALL, return_dtype=pl.Int64
    ).fill_null(ABOVE_ALL)


def highest_classification(column: str) -> pl.Expr:
    """The highest classification of `column` in a group (an aggregation; levels must be known)."""
    return (
        pl.col(column)
        .replace_strict(CLASSIFICATION_RANK, return_dtype=pl.Int64)
        .max()
        .replace_strict(RANK_TO_CLASS, return_dtype=pl.String)
    )


def highest(levels: Iterable[str]) -> str:
    """High-water mark of classifications (KeyError for an unknown one, ValueError when empty)."""
    return max(levels, key=CLASSIFICATION_RANK.__getitem__)


def within(classification: str, clearance: str) -> bool:
    """Whether `classification` is at or below `clearance`."""
    return CLASSIFICATION_RANK[classification] <= CLASSIFICATION_RANK[clearance]
