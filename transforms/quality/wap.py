"""Write-audit-publish: a table reaches analysts only after its blocking checks pass.

1. Write the candidate to `delta/_staging/<layer>/<table>` (kept for inspection either way).
2. Audit it: the table's Great Expectations suite, plus record-level lineage where it applies.
3. Blocking failure (schema, keys, lineage): publish nothing; the last good version stays.
4. Otherwise rows failing a row-level expectation go to `ops.quarantine` and are left out; the
   rest is published to `delta/<layer>/<table>` (and the warehouse) in one commit.

`audit_silver` is the silver policy: every silver table dbt built, in order, with lineage checked
where the contract says so and the rows of quarantined persons left out of their child tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from transforms.config import Environment
from transforms.contract import CHILDREN_OF_PERSONS, LINEAGE_CHECKED, SILVER_TABLES, TABLE_KEYS
from transforms.delta_io import write_commit
from transforms.publish import publish_frames, read_warehouse_table
from transforms.quality.lineage import LineageResult, silver_to_bronze
from transforms.quality.results import check_rows, quarantine_rows, record_results, save_outcome
from transforms.quality.suites import load_suite
from transforms.quality.validate import ValidationOutcome, validate
from transforms.storage import StoragePath

ROW_LEVEL_FAMILIES = {"values", "formats"}


@dataclass
class Audit:
    """What happened to one candidate table."""

    table: str
    candidate_version: int
    published: bool
    published_version: int | None = None
    rows: int = 0
    quarantined: int = 0
    excluded_with_parent: int = 0
    blocking_failed: list[str] = field(default_factory=list)
    checks: list[dict[str, object]] = field(default_factory=list)
    quarantined_keys: set[str] = field(default_factory=set)


def staging_path(env: Environment, layer: str, table: str) -> StoragePath:
    """Where the candidate of `<layer>.<table>` is written before its audit."""
    return env.delta / "_staging" / layer / table


def stage_candidate(
    env: Environment, layer: str, table: str, frame: pl.DataFrame, run_id: str
) -> int:
    """Write the candidate (one commit) where stewards can inspect it; returns its version."""
    return write_commit(
        staging_path(env, layer, table),
        frame.to_arrow(),
        mode="overwrite",
        metadata={"run_id": run_id, "candidate": "true"},
    )


def _lineage_row(asset: str, lineage: LineageResult) -> dict[str, object]:
    bad = lineage.orphans + lineage.duplicates
    return {
        "asset": asset,
        "check": f"lineage:{lineage.check}",
        "severity": "blocking",
        "passed": lineage.passed,
        "checked": lineage.checked,
        "failing": len(bad),
        "failing_share": len(bad) / max(lineage.checked, 1),
        "sample_keys": bad[:20],
        "detail": f"{len(lineage.orphans)} orphans, {len(lineage.duplicates)} duplicates",
    }


def _quarantine_frame(
    frame: pl.DataFrame, outcome: ValidationOutcome, table: str, key: str
) -> pl.DataFrame:
    parts = []
    for result in outcome.results:
        if (
            result["success"]
            or result.get("family") not in ROW_LEVEL_FAMILIES
            or not result.get("failing_rows")
        ):
            continue
        column = result.get("column")
        rows = frame[list(result["failing_rows"])]
        parts.append(
            rows.select(
                (
                    pl.col("source_dataset")
                    if "source_dataset" in rows.columns
                    else pl.lit(table.split(".")[-1])
                ).alias("dataset"),
                (
                    pl.col("source_delivery_id")
                    if "source_delivery_id" in rows.columns
                    else pl.lit(None, pl.String)
                ).alias("delivery"),
                pl.col(key).cast(pl.String).alias("record_key"),
                pl.lit(table).alias("table"),
                pl.lit(f"{result['expectation_type']}:{column}").alias("check"),
                pl.lit(f"{column} fails {result['expectation_type']}").alias("reason"),
                (
                    pl.col(column).cast(pl.String)
                    if column in rows.columns
                    else pl.lit(None, pl.String)
                ).alias("value"),
            )
        )
    return pl.concat(parts) if parts else pl.DataFrame()


def audit_publish(
    env: Environment,
    layer: str,
    table: str,
    frame: pl.DataFrame,
    suite: dict[str, object],
    run_id: str,
    *,
    key: str = "record_key",
    lineage: LineageResult | None = None,
    exclude_keys: set[str] | None = None,
) -> Audit:
    """Stage, audit and (when the blocking checks pass) publish one table."""
    name = f"{layer}.{table}"
    excluded = 0
    if exclude_keys and key in frame.columns:
        before = frame.height
        frame = frame.filter(~pl.col(key).is_in(sorted(exclude_keys)))
        excluded = before - frame.height
    audit = Audit(
        name,
        stage_candidate(env, layer, table, frame, run_id),
        published=False,
        excluded_with_parent=excluded,
    )
    outcome = validate(frame, suite, key_column=key if key in frame.columns else None)
    save_outcome(env, name, outcome)
    audit.checks = check_rows(name, outcome, frame.height)
    if lineage is not None:
        audit.checks.append(_lineage_row(name, lineage))
    audit.blocking_failed = [
        c["check"] for c in audit.checks if c["severity"] == "blocking" and not c["passed"]
    ]
    if audit.blocking_failed:
        return audit
    held = _quarantine_frame(frame, outcome, name, key)
    if held.height:
        audit.quarantined_keys = set(held["record_key"].drop_nulls().to_list())
        audit.quarantined = quarantine_rows(env, held.unique(["record_key", "check"]), run_id)
        frame = frame.filter(~pl.col(key).cast(pl.String).is_in(sorted(audit.quarantined_keys)))
    published = publish_frames(env, layer, {table: frame}, run_id=run_id)[0]
    audit.published, audit.published_version, audit.rows = True, published.version, published.rows
    return audit


def audit_silver(
    env: Environment, run_id: str, tables: Sequence[str] = SILVER_TABLES
) -> list[Audit]:
    """Write-audit-publish every silver table dbt built in the warehouse, in `tables` order.

    Lineage is checked for `LINEAGE_CHECKED` tables; rows of persons quarantined from
    `person_records` are left out of `CHILDREN_OF_PERSONS` (counted in `excluded_with_parent`);
    every check result is recorded in `ops.quality_results` (one commit). A table whose blocking
    checks fail is not published (its last good version stays) and the rest go on.
    """
    quarantined_persons: set[str] = set()
    audits: list[Audit] = []
    for table in tables:
        frame = read_warehouse_table(env, "silver", table)
        audit = audit_publish(
            env,
            "silver",
            table,
            frame,
            load_suite(env.expectations_dir / "silver" / f"{table}.json"),
            run_id,
            key=TABLE_KEYS[table],
            lineage=silver_to_bronze(env, frame, f"{table}_to_bronze")
            if table in LINEAGE_CHECKED
            else None,
            exclude_keys=quarantined_persons if table in CHILDREN_OF_PERSONS else None,
        )
        if table == "person_records":
            quarantined_persons = audit.quarantined_keys
        audits.append(audit)
    record_results(env, [c for a in audits for c in a.checks], run_id)
    return audits
