"""The bulk-search ledgers `ops.search_log` and `ops.search_matches`, and the monthly figures.

Every search is one `ops.search_log` row (counts only), one `ops.audit_log` row, and one
`ops.search_matches` row per (subject, entity) the user was shown, so a partner cut can be limited
to the entities a task's searches matched (`task_matches`). `monthly_output` turns the log into
per-month figures, also kept in the warehouse as `gold.monthly_search_output`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
import pyarrow as pa

from transforms.config import Environment
from transforms.delta_io import current_version, read_path, read_table
from transforms.governance.audit import Outcome, audit
from transforms.publish import append_frame, copy_to_warehouse

SEARCH_LOG = "ops.search_log"
SEARCH_MATCHES = "ops.search_matches"
MONTHLY_TABLE = "monthly_search_output"  # gold.monthly_search_output in the warehouse
SEARCHED_TABLES = ("gold.entities", "gold.entity_records", "gold.entity_links")
LOG_SCHEMA = pa.schema(
    [
        ("task", pa.string()),
        ("user", pa.string()),
        ("purpose", pa.string()),
        ("subjects", pa.int64()),
        ("entities_matched", pa.int64()),
        ("links_found", pa.int64()),
        ("seconds", pa.float64()),
        ("searched_at", pa.timestamp("us", tz="UTC")),
        ("search_id", pa.string()),
    ]
)
MATCHES_SCHEMA = pa.schema(
    [
        ("search_id", pa.string()),
        ("task", pa.string()),
        ("searched_at", pa.timestamp("us", tz="UTC")),
        ("subject_id", pa.string()),
        ("entity_id", pa.string()),
        ("match_probability", pa.float64()),
    ]
)
MONTHLY_SCHEMA = {
    "month": pl.Date,
    "bulk_searches": pl.Int64,
    "entities_searched": pl.Int64,
    "entities_matched": pl.Int64,
    "links_found": pl.Int64,
}


def log_search(
    env: Environment,
    task: str,
    user: str,
    purpose: str,
    subjects_count: int,
    matches: int,
    links: int,
    seconds: float,
    run_id: str,
    *,
    shown: pl.DataFrame | None = None,
) -> str:
    """Record one search: its matches, its `ops.search_log` row, its audit row; returns its id.

    `shown` is the result the user was shown (after the clearance filter, `RESULT_SCHEMA`);
    each of its matched (subject, entity) pairs becomes an `ops.search_matches` row. The matches
    are appended *first* and the log row second, each one Delta commit: readers reach matches
    only through a log row (`task_matches` joins from the log), so if the log append fails the
    matches already written are orphans no reader counts, and a log row never lacks its matches.
    """
    searched_at = datetime.now(UTC)
    if shown is not None:
        matched = search_matches(shown, search_id=run_id, task=task, searched_at=searched_at)
        if matched.height:
            append_frame(env, SEARCH_MATCHES, matched, run_id=run_id)
    row = {
        "task": task,
        "user": user,
        "purpose": purpose,
        "subjects": subjects_count,
        "entities_matched": matches,
        "links_found": links,
        "seconds": round(float(seconds), 3),
        "searched_at": searched_at,
        "search_id": run_id,
    }
    frame = pl.from_arrow(pa.Table.from_pylist([row], schema=LOG_SCHEMA))
    assert isinstance(frame, pl.DataFrame)
    append_frame(env, SEARCH_LOG, frame, run_id=run_id)
    audit_search(env, task, user, purpose, "allowed", rows=matches, seconds=seconds, run_id=run_id)
    refresh_warehouse(env)
    return run_id


def search_matches(
    shown: pl.DataFrame, *, search_id: str, task: str, searched_at: datetime
) -> pl.DataFrame:
    """The `ops.search_matches` rows of a shown result: one per matched (subject, entity)."""
    probability = (
        pl.col("match_probability")
        if "match_probability" in shown.columns
        else pl.lit(None, dtype=pl.Float64)
    )
    schema = _empty(MATCHES_SCHEMA).schema
    return (
        shown.filter(pl.col("entity_id").is_not_null())
        .group_by("subject_id", "entity_id", maintain_order=True)
        .agg(probability.max().alias("match_probability"))
        .select(
            pl.lit(search_id).alias("search_id"),
            pl.lit(task).alias("task"),
            pl.lit(searched_at).alias("searched_at"),
            "subject_id",
            "entity_id",
            "match_probability",
        )
        .select([pl.col(name).cast(dtype) for name, dtype in schema.items()])
    )


def _empty(schema: pa.Schema) -> pl.DataFrame:
    frame = pl.from_arrow(schema.empty_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


@dataclass(frozen=True)
class TaskMatches:
    """The entities the searches recorded under one task matched (what a task's cut may hold)."""

    task: str
    searches: list[str]  # search ids of the task's `ops.search_log` rows, oldest first
    entity_ids: list[str]  # distinct, sorted
    versions: dict[str, int]  # the ledger versions read

    @property
    def empty(self) -> bool:
        return not self.entity_ids


def task_matches(env: Environment, task: str) -> TaskMatches:
    """Every entity matched by a search logged under `task`, read from the log.

    Only searches with an `ops.search_log` row count (matches without one are from a search
    whose log append failed, see `log_search`). No search, or no match, gives an empty result.
    Entity ids are those the searches saw: an entity since split or renamed (see
    `ops.entity_id_changes`) is not followed to its new id.
    """
    versions: dict[str, int] = {}
    frames: dict[str, pl.DataFrame] = {}
    for table, schema in ((SEARCH_LOG, LOG_SCHEMA), (SEARCH_MATCHES, MATCHES_SCHEMA)):
        version = current_version(env.table_path(table))
        if version is None:  # no search (or no match) recorded yet
            frames[table] = _empty(schema)
        else:
            versions[table] = version
            frames[table] = read_table(env, table, version=version)
    log = frames[SEARCH_LOG].filter(pl.col("task") == task).sort("searched_at")
    matched = frames[SEARCH_MATCHES].join(log.select("search_id"), on="search_id", how="semi")
    entity_ids = sorted(matched["entity_id"].drop_nulls().unique().to_list())
    return TaskMatches(task, log["search_id"].to_list(), entity_ids, versions)


def audit_search(
    env: Environment,
    task: str | None,
    user: str,
    purpose: str,
    outcome: Outcome,
    *,
    rows: int = 0,
    seconds: float = 0.0,
    reason: str | None = None,
    run_id: str | None = None,
) -> None:
    """The `ops.audit_log` row of one search, allowed or refused, naming the task it served."""
    audit(
        env,
        user=user,
        purpose=purpose,
        action="search",
        sql=None,
        tables=list(SEARCHED_TABLES),
        rows=rows,
        seconds=seconds,
        outcome=outcome,
        reason=reason,
        run_id=run_id,
        task=task or None,
    )


def monthly_output(env: Environment) -> pl.DataFrame:
    """Per calendar month (UTC): bulk searches, entities searched and matched, links found."""
    log = read_path(env.table_path(SEARCH_LOG))
    if log is None or log.height == 0:
        return pl.DataFrame(schema=MONTHLY_SCHEMA)
    return (
        log.group_by(pl.col("searched_at").dt.truncate("1mo").dt.date().alias("month"))
        .agg(
            pl.len().alias("bulk_searches"),
            pl.col("subjects").sum().alias("entities_searched"),
            pl.col("entities_matched").sum(),
            pl.col("links_found").sum(),
        )
        .select([pl.col(c).cast(t) for c, t in MONTHLY_SCHEMA.items()])
        .sort("month")
    )


def refresh_warehouse(env: Environment) -> None:
    """Replace `gold.monthly_search_output` in the DuckDB warehouse with the current figures."""
    copy_to_warehouse(env, "gold", {MONTHLY_TABLE: monthly_output(env)})
