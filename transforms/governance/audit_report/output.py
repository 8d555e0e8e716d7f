"""Output (the inspection's performance measures) and the tasks served in the period.

Output is read from `ops.search_log`, one row per bulk search: searches run, subjects searched,
entities found and links found, per calendar month (UTC) and per task. Tasks come from the
append-only register `ops.tasks`: every task open at some moment of the period.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from transforms.config import Environment
from transforms.governance.audit_report.common import Period, in_period, jsonable, read_ops, rows

SEARCH_LOG = "ops.search_log"
MEASURES = (
    pl.len().alias("bulk_searches"),
    pl.col("subjects").sum().alias("subjects_searched"),
    pl.col("entities_matched").sum().alias("entities_found"),
    pl.col("links_found").sum().alias("links_found"),
)


def output_section(env: Environment, period: Period) -> dict[str, Any]:
    """Bulk-search figures for the period: totals, per month, per task, per month and task."""
    log = in_period(read_ops(env, SEARCH_LOG, "searched_at"), "searched_at", period)
    if log.is_empty():
        log = pl.DataFrame(
            schema={
                "task": pl.String,
                "subjects": pl.Int64,
                "entities_matched": pl.Int64,
                "links_found": pl.Int64,
                "searched_at": pl.Datetime("us", "UTC"),
            }
        )
    log = log.with_columns(pl.col("searched_at").dt.truncate("1mo").dt.date().alias("month"))
    totals = log.select(*MEASURES).row(0, named=True)
    return {
        "totals": {k: int(v or 0) for k, v in totals.items()},
        "per_month": rows(log.group_by("month").agg(*MEASURES).sort("month")),
        "per_task": rows(log.group_by("task").agg(*MEASURES).sort("task", nulls_last=True)),
        "per_month_and_task": rows(
            log.group_by("month", "task").agg(*MEASURES).sort("month", "task", nulls_last=True)
        ),
    }


def tasks_section(env: Environment, period: Period, log: pl.DataFrame | None) -> dict[str, Any]:
    """Tasks open at some moment of the period, with when they opened and closed.

    `log` is the period's `ops.audit_log` rows (for the requests each task served), or None.
    """
    try:
        from transforms.governance.tasks import read_register
    except ImportError:  # the tasking register is not part of this installation yet
        return {"available": False, "tasks": []}
    register = read_register(env)
    if register.is_empty():
        return {"available": True, "tasks": []}
    served = (
        dict(log.filter(pl.col("task").is_not_null()).group_by("task").len().iter_rows())
        if log is not None and "task" in log.columns and not log.is_empty()
        else {}
    )
    tasks = []
    for ref, history in register.sort("recorded_at").group_by("task_ref", maintain_order=True):
        first, last = history.row(0, named=True), history.row(-1, named=True)
        closed = history.filter(pl.col("status") == "closed")
        closed_at = closed["recorded_at"].min() if closed.height else None
        opened_at = first["recorded_at"]
        if opened_at >= period.ends or (closed_at is not None and closed_at < period.begins):
            continue
        tasks.append(
            {
                "task_ref": ref[0],
                "title": last["title"],
                "approved_by": last["approved_by"],
                "purpose": last["purpose"],
                "datasets": list(last["datasets"] or []),
                "status": last["status"],
                "opened_at": jsonable(opened_at),
                "closed_at": jsonable(closed_at),
                "opened_in_period": period.begins <= opened_at < period.ends,
                "closed_in_period": closed_at is not None
                and period.begins <= closed_at < period.ends,
                "requests_in_period": int(served.get(ref[0], 0)),
            }
        )
    return {"available": True, "tasks": tasks}
