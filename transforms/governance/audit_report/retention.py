"""Retention: per dataset its period, the oldest record held, and the query proving none is past it.

A record's age is its bronze `_ingested_at` (when its delivery was read), the column
`apply_retention` destroys by; every later layer derives from bronze and is purged with it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from deltalake import DeltaTable

from transforms.catalogue import Dataset
from transforms.config import Environment
from transforms.governance.audit_report.common import Period, in_period, jsonable, read_ops
from transforms.governance.sql import connect

RETENTION_USER = "retention-job"  # who `apply_retention` names in its certificates
AGE_COLUMN = "_ingested_at"


def retention_query(dataset: Dataset, now: datetime) -> str:
    """The SQL (runnable as `lakehouse sql`) counting the dataset's records past retention."""
    cutoff = now - timedelta(days=dataset.retention_days)
    return (
        f"select count(*) as records_held, min({AGE_COLUMN}) as oldest_ingested_at, "
        f"count(*) filter (where {AGE_COLUMN} < timestamptz '{cutoff.isoformat()}') "
        f"as past_retention from bronze.{dataset.name}"
    )


def retention_section(
    env: Environment, catalogue: dict[str, Dataset], period: Period, now: datetime
) -> dict[str, Any]:
    """Each dataset's retention facts, and the retention destructions of the period."""
    datasets = []
    for dataset in catalogue.values():
        path = env.table_path(f"bronze.{dataset.name}")
        sql = retention_query(dataset, now)
        entry: dict[str, Any] = {
            "dataset": dataset.name,
            "retention_days": dataset.retention_days,
            "cutoff": jsonable(now - timedelta(days=dataset.retention_days)),
            "records_held": 0,
            "oldest_ingested_at": None,
            "past_retention": 0,
            "query": sql,
            "bronze_version": None,
        }
        if DeltaTable.is_deltatable(str(path)):
            snapshot = DeltaTable(str(path))
            con = connect({f"bronze.{dataset.name}": snapshot}, env)
            try:
                [(held, oldest, past)] = con.execute(sql).fetchall()
            finally:
                con.close()
            entry |= {
                "records_held": int(held),
                "oldest_ingested_at": jsonable(oldest),
                "past_retention": int(past),
                "bronze_version": snapshot.version(),
            }
        datasets.append(entry)
    runs = _retention_runs(env, period)
    past = sum(d["past_retention"] for d in datasets)
    return {
        "datasets": datasets,
        "records_past_retention": past,
        "retention_runs": runs,
        "note": "A retention run that finds nothing past retention destroys nothing and writes "
        "no certificate; the runs listed are those that destroyed records (ops.destructions).",
    }


def _retention_runs(env: Environment, period: Period) -> list[dict[str, Any]]:
    found = in_period(read_ops(env, "ops.destructions", "at"), "at", period)
    if found.is_empty():
        return []
    runs = found.filter(pl.col("user") == RETENTION_USER)
    return [
        {
            "destruction_id": row["destruction_id"],
            "at": jsonable(row["at"]),
            "dataset": row["dataset"],
            "scope": row["scope"],
            "reason": row["reason"],
            "records": len(row["record_keys"] or []),
            "bronze_rows": json.loads(row["rows_per_table"] or "{}").get(
                f"bronze.{row['dataset']}", 0
            ),
        }
        for row in runs.to_dicts()
    ]
