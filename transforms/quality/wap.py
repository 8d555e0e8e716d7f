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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb
import polars as pl

from transforms.config import Environment
from transforms.contract import CHILDREN_OF_PERSONS, LINEAGE_CHECKED, SILVER_TABLES, TABLE_KEYS
from transforms.delta_io import current_version, write_commit
from transforms.duckdb_settings import connect
from transforms.locks import warehouse_lock
from transforms.publish import publish_frames, read_warehouse_table
from transforms.quality.lineage import LineageResult, silver_to_bronze
from transforms.quality.results import check_rows, quarantine_rows, record_results, save_outcome
from transforms.quality.suites import load_suite
from transforms.quality.table_checks import row_level_suite, table_checks
from transforms.quality.validate import ValidationOutcome, validate
from transforms.silver_changes import merge_change, published_keys, table_change
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
    changed: bool = True  # False: published as it was (no commit, nothing downstream to redo)
    previous_version: int | None = None  # the published Delta version the change was taken from
    merged_keys: list[str] | None = None  # keys whose rows a merge replaced; None: written whole


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


def blocking_failures(checks: list[dict[str, object]]) -> list[str]:
    """The names of the blocking checks that failed (any of them publishes nothing)."""
    return [str(c["check"]) for c in checks if c["severity"] == "blocking" and not c["passed"]]


def hold_failing_rows(
    env: Environment,
    audit: Audit,
    frame: pl.DataFrame,
    outcome: ValidationOutcome,
    key: str,
    run_id: str,
) -> pl.DataFrame:
    """Quarantine the rows failing a row-level expectation; the frame without them."""
    held = _quarantine_frame(frame, outcome, audit.table, key)
    if held.height == 0:
        return frame
    audit.quarantined_keys = set(held["record_key"].drop_nulls().to_list())
    audit.quarantined = quarantine_rows(env, held.unique(["record_key", "check"]), run_id)
    return frame.filter(~pl.col(key).cast(pl.String).is_in(sorted(audit.quarantined_keys)))


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
    audit.blocking_failed = blocking_failures(audit.checks)
    if audit.blocking_failed:
        return audit
    frame = hold_failing_rows(env, audit, frame, outcome, key, run_id)
    published = publish_frames(env, layer, {table: frame}, run_id=run_id)[0]
    audit.published, audit.published_version, audit.rows = True, published.version, published.rows
    return audit


def audit_silver(
    env: Environment,
    run_id: str,
    tables: Sequence[str] = SILVER_TABLES,
    *,
    full_refresh: bool = False,
) -> list[Audit]:
    """Write-audit-publish every silver table dbt built in the warehouse, in `tables` order.

    Only what changed is audited and published (`transforms/silver_changes.py`): the rows of
    every changed key go through the row-level expectations, lineage and quarantine, and the
    Delta table is merged in one commit (none when nothing changed); keys and row counts are
    checked in SQL over the whole table. `full_refresh` audits and replaces every table whole.
    Rows of persons quarantined from `person_records` are left out of `CHILDREN_OF_PERSONS`
    (counted in `excluded_with_parent`); every check result is recorded in `ops.quality_results`
    (one commit). A table whose blocking checks fail is not published (its last good version
    stays) and the rest go on. The warehouse copy is left equal to what was published.
    """
    quarantined_persons: set[str] = set()
    audits: list[Audit] = []
    with warehouse_lock(env, f"silver publication in run {run_id}"):
        con = connect(env, env.warehouse) if env.engine == "duckdb" else spark_tables(env, tables)
        try:
            for table in tables:
                audit = _audit_silver_table(
                    env,
                    con,
                    table,
                    run_id,
                    exclude_keys=quarantined_persons if table in CHILDREN_OF_PERSONS else set(),
                    full_refresh=full_refresh,
                )
                if table == "person_records":
                    quarantined_persons = audit.quarantined_keys
                audits.append(audit)
        finally:
            con.close()
    record_results(env, [c for a in audits for c in a.checks], run_id)
    return audits


def spark_tables(env: Environment, tables: Sequence[str]) -> duckdb.DuckDBPyConnection:
    """On Spark, the tables dbt built in its metastore, copied into an in-memory DuckDB."""
    con = connect(env)
    con.execute("create schema silver")
    for table in tables:
        con.register("__built", read_warehouse_table(env, "silver", table).to_arrow())
        con.execute(f'create table silver."{table}" as select * from __built')
        con.unregister("__built")
    return con


def _audit_silver_table(
    env: Environment,
    con: duckdb.DuckDBPyConnection,
    table: str,
    run_id: str,
    *,
    exclude_keys: set[str],
    full_refresh: bool,
) -> Audit:
    lineage = (
        (lambda frame: silver_to_bronze(env, frame, f"{table}_to_bronze"))
        if table in LINEAGE_CHECKED
        else None
    )
    return audit_change(
        env,
        con,
        "silver",
        table,
        run_id,
        exclude_keys=exclude_keys,
        whole=full_refresh,
        lineage=lineage,
    )


def audit_change(
    env: Environment,
    con: duckdb.DuckDBPyConnection,
    layer: str,
    table: str,
    run_id: str,
    *,
    exclude_keys: set[str] = frozenset(),  # type: ignore[assignment]
    whole: bool = False,
    lineage: Callable[[pl.DataFrame], LineageResult] | None = None,
) -> Audit:
    """Write-audit-publish the table `<layer>."<table>"` of `con` by its change against Delta.

    The rows of every key that differs from the published Delta table (all rows when nothing is
    published, its columns differ or `whole`) are staged, validated by the row-level
    expectations and `lineage`, and held in quarantine where they fail; keys and row counts are
    checked in SQL over the whole relation. The Delta table is then merged in one commit (none
    when nothing changed), or written whole. Rows of `exclude_keys` and quarantined rows are
    withheld: left out of Delta and deleted from the relation, which ends equal to what was
    published (`audit.merged_keys` names the keys whose rows the merge replaced).
    """
    name, key, relation = f"{layer}.{table}", TABLE_KEYS[table], f'{layer}."{table}"'
    path = env.table_path(name)
    audit_from = None if whole else path
    change = table_change(con, relation, key, audit_from)
    frame = change.rows
    con.register("__excluded", pl.DataFrame({"k": sorted(exclude_keys)}, schema={"k": pl.String}))
    excluded_sql = f'"{key}" in (select k from __excluded)'
    excluded = int(
        con.execute(f"select count(*) from {relation} where {excluded_sql}").fetchall()[0][0]
    )
    if exclude_keys:
        frame = frame.filter(~pl.col(key).is_in(sorted(exclude_keys)))
    audit = Audit(
        name,
        stage_candidate(env, layer, table, frame, run_id),
        published=False,
        excluded_with_parent=excluded,
        previous_version=current_version(path),
    )
    suite = load_suite(env.expectations_dir / layer / f"{table}.json")
    outcome = validate(frame, row_level_suite(suite), key_column=key)
    save_outcome(env, name, outcome)
    audit.checks = check_rows(name, outcome, frame.height)
    audit.checks += table_checks(con, relation, suite, name, exclude=excluded_sql)
    if lineage is not None:
        audit.checks.append(_lineage_row(name, lineage(frame)))
    audit.blocking_failed = blocking_failures(audit.checks)
    if audit.blocking_failed:
        con.unregister("__excluded")
        return audit
    frame = hold_failing_rows(env, audit, frame, outcome, key, run_id)
    metadata = {"run_id": run_id}
    withheld = exclude_keys | audit.quarantined_keys  # not published: their old rows go too
    if change.whole:
        version = write_commit(path, frame.to_arrow(), mode="overwrite", metadata=metadata)
        audit.changed, audit.merged_keys = True, None
    else:
        keys = sorted(set(change.keys or []) | published_keys(path, key, withheld))
        version = merge_change(path, key, keys, frame, metadata)
        audit.changed, audit.merged_keys = bool(keys), keys
    con.register("__withheld", pl.DataFrame({"k": sorted(withheld)}, schema={"k": pl.String}))
    con.execute(f'delete from {relation} where "{key}" in (select k from __withheld)')
    con.unregister("__withheld")
    con.unregister("__excluded")
    audit.published, audit.published_version = True, version
    audit.rows = int(con.execute(f"select count(*) from {relation}").fetchall()[0][0])
    return audit
