"""Compute the accuracy reports from published Delta tables and keep them as ops tables."""

from __future__ import annotations

import polars as pl

from transforms.config import Environment
from transforms.delta_io import TableNotFound, read_table, write_commit
from transforms.evaluate.normalisation import (
    ADDRESS_COLUMNS,
    IDENTIFIER_COLUMNS,
    PERSON_COLUMNS,
    normalisation_report,
)
from transforms.publish import read_warehouse_table


def has_truth(env: Environment) -> bool:
    """Ground truth exists only for synthetic catalogues."""
    return (env.truth / "record_truth.parquet").exists()


def current_normalisation_report(env: Environment) -> pl.DataFrame:
    """The normalisation report of the silver tables as published now."""
    if not has_truth(env):
        raise TableNotFound(
            f"no ground truth under {env.truth}: accuracy needs a synthetic catalogue"
        )
    return normalisation_report(
        env.truth,
        read_table(env, "silver.person_records", columns=list(PERSON_COLUMNS)),
        read_table(env, "silver.addresses", columns=list(ADDRESS_COLUMNS)),
        read_table(env, "silver.comms_identifiers", columns=list(IDENTIFIER_COLUMNS)),
    )


def invalid_value_counts(env: Environment) -> pl.DataFrame:
    """Raw values normalisation turned into null, per dataset and field (built by dbt)."""
    counts = read_warehouse_table(env, "silver", "normalisation_invalid_counts")
    return counts.sort("source_dataset", "field")


def store_report(env: Environment, table: str, report: pl.DataFrame, run_id: str) -> int:
    """Replace `ops.<table>` with this run's report (older runs stay readable by version)."""
    stamped = report.with_columns(pl.lit(run_id).alias("run_id"))
    write_commit(
        env.table_path(f"ops.{table}"),
        stamped.to_arrow(),
        mode="overwrite",
        metadata={"run_id": run_id},
    )
    return stamped.height
