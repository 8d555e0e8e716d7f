"""What one dbt build must normalise: only the deliveries silver does not hold yet.

Normalisation is the expensive part of silver (the rules run per row), so it follows the
delivery: `int_records__unioned` is incremental, and this plan tells the staging models which
bronze deliveries to read (`silver_reads`), which `cut` datasets a new delivery replaced
(`silver_replaced`: their old records are deleted) and the bronze version each delivery's rows
carry as `source_version` (`delivery_versions`).

`source_version` is the bronze version that committed the row's delivery, raised to the oldest
version still readable (a destruction rewrites bronze and removes the versions before it). It
does not depend on when the row was normalised, so an incremental build and a rebuild from
scratch give the same rows, and every row is found in bronze at its version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from transforms.catalogue import Dataset
from transforms.config import Environment
from transforms.delta_io import current_version, oldest_version
from transforms.duckdb_settings import connect
from transforms.ingest import ledger
from transforms.ingest.pipeline import ledger_path

UNIONED = ("intermediate", "int_records__unioned")
"""The incremental model that holds silver's normalised records (schema, name)."""
NORMALISED = "normalised_deliveries"
"""The table beside it listing the deliveries it has normalised (its dbt post-hook keeps it)."""


@dataclass(frozen=True)
class SilverPlan:
    """The dbt variables of one build; `reads` is None for a build from scratch."""

    bronze_versions: dict[str, int]
    delivery_versions: dict[str, dict[str, int]]
    reads: dict[str, list[str]] | None = None
    replaced: list[str] = field(default_factory=list)
    floors: dict[str, int] = field(default_factory=dict)  # oldest readable bronze version

    @property
    def incremental(self) -> bool:
        return self.reads is not None

    def dbt_vars(self) -> dict[str, Any]:
        """The `--vars` of `dbt build` (the macros in `dbt_project/macros/` read them)."""
        found: dict[str, Any] = {
            "bronze_versions": self.bronze_versions,
            "delivery_versions": self.delivery_versions,
            "bronze_floors": self.floors,
        }
        if self.reads is not None:
            found["silver_reads"] = self.reads
            found["silver_replaced"] = self.replaced
        return found

    def summary(self) -> str:
        """One line for the run log: what this build reads."""
        if self.reads is None:
            held = sum(len(v) for v in self.delivery_versions.values())
            return f"silver from scratch: {held} deliveries of {len(self.bronze_versions)} datasets"
        reads = {d: ids for d, ids in self.reads.items() if ids}
        if not reads:
            return "silver incremental: no new delivery to normalise"
        listed = ", ".join(f"{d} ({len(ids)})" for d, ids in sorted(reads.items()))
        replaced = f"; replaced cuts: {', '.join(self.replaced)}" if self.replaced else ""
        return f"silver incremental: new deliveries of {listed}{replaced}"


def bronze_deliveries(
    env: Environment, dataset: Dataset, current: int, floor: int
) -> dict[str, int]:
    """Each delivery bronze holds at version `current` (the one dbt reads), with the version its
    rows carry in silver (`floor`: the oldest still readable)."""
    book = ledger.read(ledger_path(env), dataset.name).filter(
        (pl.col("status") == "ingested") & (pl.col("delta_version") <= current)
    )
    if dataset.access == "cut":  # an overwrite: bronze holds the latest cut only
        book = book.sort("delta_version").tail(1)
    return {
        row["delivery_id"]: max(int(row["delta_version"]), floor)
        for row in book.select("delivery_id", "delta_version").iter_rows(named=True)
    }


def plan_silver(
    env: Environment,
    catalogue: dict[str, Dataset],
    normalised: dict[str, set[str]] | None,
) -> SilverPlan:
    """The plan of one build; `normalised` is the deliveries silver holds (None: from scratch)."""
    versions = {
        name: v
        for name in catalogue
        if (v := current_version(env.table_path(f"bronze.{name}"))) is not None
    }
    floors = {name: oldest_version(env.table_path(f"bronze.{name}")) for name in versions}
    held = {
        name: bronze_deliveries(env, catalogue[name], versions[name], floors[name])
        for name in sorted(versions)
    }
    if normalised is None:
        return SilverPlan(versions, held, floors=floors)
    reads: dict[str, list[str]] = {}
    replaced: list[str] = []
    for name in sorted(catalogue):
        new = sorted(set(held.get(name, {})) - normalised.get(name, set()))
        reads[name] = new
        if new and catalogue[name].access == "cut" and normalised.get(name):
            replaced.append(name)
    wanted = {name: {d: held[name][d] for d in reads[name]} for name in held if reads.get(name)}
    return SilverPlan(versions, wanted, reads, replaced, floors)


def normalised_deliveries(env: Environment) -> dict[str, set[str]] | None:
    """The deliveries `int_records__unioned` has normalised, per dataset (the list its dbt
    post-hook keeps); None when it was never built.

    The caller holds the warehouse lock (one process per DuckDB file).
    """
    if not env.warehouse.exists():
        return None
    con = connect(env, env.warehouse, read_only=True)
    try:
        schema = UNIONED[0]
        tables = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = 'BASE TABLE'",
                [schema],
            ).fetchall()
        }
        if not {UNIONED[1], NORMALISED} <= tables:
            return None
        rows = con.execute(f'select dataset, delivery_id from "{schema}"."{NORMALISED}"').fetchall()
    finally:
        con.close()
    found: dict[str, set[str]] = {}
    for dataset, delivery in rows:
        found.setdefault(dataset, set()).add(delivery)
    return found


def plan_build(
    env: Environment, catalogue: dict[str, Dataset], *, full_refresh: bool = False
) -> SilverPlan:
    """The plan of the next dbt build (the caller holds the warehouse lock)."""
    return plan_silver(env, catalogue, None if full_refresh else normalised_deliveries(env))
