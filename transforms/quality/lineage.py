"""Record-level lineage, checked rather than assumed.

Every silver row must resolve to a bronze row at its recorded `source_version` (by delivery id
and row number); every gold entity record must resolve to a silver person record; no duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
from deltalake.exceptions import DeltaError

from transforms.config import Environment
from transforms.delta_io import TableNotFound, open_table, read_where_in


@dataclass(frozen=True)
class LineageResult:
    """Orphans and duplicates found, with sample keys a steward can look up."""

    check: str
    checked: int
    orphans: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.orphans and not self.duplicates


def silver_to_bronze(
    env: Environment, silver: pl.DataFrame, check: str = "silver_to_bronze"
) -> LineageResult:
    """Each silver row's (dataset, version, delivery, row number) exists in bronze at that version."""
    orphans: list[str] = []
    for (dataset, version), rows in silver.group_by("source_dataset", "source_version"):
        deliveries = rows["source_delivery_id"].drop_nulls().unique().to_list()
        try:
            bronze = pl.from_arrow(  # only the deliveries checked: cost follows the change
                read_where_in(
                    open_table(env.table_path(f"bronze.{dataset}"), int(version)),
                    ["_delivery_id", "_row_number"],
                    "_delivery_id",
                    deliveries,
                )
            ).select(
                pl.col("_delivery_id").alias("source_delivery_id"),
                pl.col("_row_number").alias("source_row_number"),
            )
        except (TableNotFound, DeltaError, ValueError, OSError):  # a version no longer readable
            orphans.extend(rows["record_key"].to_list())
            continue
        missing = rows.join(bronze, on=["source_delivery_id", "source_row_number"], how="anti")
        orphans.extend(missing["record_key"].to_list())
    duplicates = (
        silver.filter(pl.col("record_key").is_duplicated())["record_key"].unique().to_list()
    )
    return LineageResult(check, silver.height, sorted(orphans), sorted(duplicates))


def gold_to_silver(entity_records: pl.DataFrame, persons: pl.DataFrame) -> LineageResult:
    """Every gold.entity_records row names a silver person record, once."""
    orphans = entity_records.join(persons.select("record_key"), on="record_key", how="anti")[
        "record_key"
    ]
    duplicates = entity_records.filter(pl.col("record_key").is_duplicated())["record_key"].unique()
    return LineageResult(
        "gold_to_silver",
        entity_records.height,
        sorted(orphans.to_list()),
        sorted(duplicates.to_list()),
    )
