"""The bulk-search ledger `ops.search_log` and the monthly figures inspectors ask for.

Every search is one ledger row and one `ops.audit_log` row; `monthly_output` turns the ledger
into per-month figures, also kept in the warehouse as `gold.monthly_search_output`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pyarrow as pa

from transforms.config import Environment
from transforms.delta_io import read_path
from transforms.governance.audit import audit
from transforms.publish import append_frame, copy_to_warehouse

SEARCH_LOG = "ops.search_log"
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
) -> str:
    """Append one row to `ops.search_log` and refresh `gold.monthly_search_output`; returns the search id."""
    row = {
        "task": task,
        "user": user,
        "purpose": purpose,
        "subjects": subjects_count,
        "entities_matched": matches,
        "links_found": links,
        "seconds": round(float(seconds), 3),
        "searched_at": datetime.now(UTC),
        "search_id": run_id,
    }
    frame = pl.from_arrow(pa.Table.from_pylist([row], schema=LOG_SCHEMA))
    assert isinstance(frame, pl.DataFrame)
    append_frame(env, SEARCH_LOG, frame, run_id=run_id)
    audit(
        env,
        user=user,
        purpose=purpose,
        action="search",
        sql=None,
        tables=list(SEARCHED_TABLES),
        rows=matches,
        seconds=seconds,
        outcome="allowed",
        run_id=run_id,
    )
    refresh_warehouse(env)
    return run_id


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
