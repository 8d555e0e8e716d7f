"""The stewards' record: `ops.quality_results` (every check of every run) and `ops.quarantine`."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

import polars as pl

from transforms.config import Environment
from transforms.delta_io import read_path
from transforms.publish import append_frame
from transforms.quality.validate import ValidationOutcome
from transforms.storage import StoragePath, make_dirs, staged

RESULT_SCHEMA = {
    "run_id": pl.String,
    "asset": pl.String,
    "check": pl.String,
    "severity": pl.String,
    "passed": pl.Boolean,
    "checked": pl.Int64,
    "failing": pl.Int64,
    "failing_share": pl.Float64,
    "sample_keys": pl.List(pl.String),
    "detail": pl.String,
    "recorded_at": pl.Datetime("us", "UTC"),
}
QUARANTINE_SCHEMA = {
    "dataset": pl.String,
    "delivery": pl.String,
    "record_key": pl.String,
    "table": pl.String,
    "check": pl.String,
    "reason": pl.String,
    "value": pl.String,
    "run_id": pl.String,
    "quarantined_at": pl.Datetime("us", "UTC"),
}


def record_results(env: Environment, rows: list[dict[str, object]], run_id: str) -> None:
    """Append this run's check results (one commit)."""
    if not rows:
        return
    now = datetime.now(UTC)
    frame = pl.DataFrame(
        [
            {**{k: None for k in RESULT_SCHEMA}, **row, "run_id": run_id, "recorded_at": now}
            for row in rows
        ],
        schema=RESULT_SCHEMA,
    )
    append_frame(env, "ops.quality_results", frame, run_id=run_id)


def quarantine_rows(env: Environment, rows: pl.DataFrame, run_id: str) -> int:
    """Append failing rows to `ops.quarantine` (one commit); returns how many."""
    if rows.height == 0:
        return 0
    frame = rows.with_columns(
        pl.lit(run_id).alias("run_id"), pl.lit(datetime.now(UTC)).alias("quarantined_at")
    ).select([pl.col(c).cast(t) for c, t in QUARANTINE_SCHEMA.items()])
    append_frame(env, "ops.quarantine", frame, run_id=run_id)
    return frame.height


def latest_results(env: Environment) -> pl.DataFrame:
    """The most recent result of every (asset, check): the state stewards act on (empty when none)."""
    frame = read_path(env.table_path("ops.quality_results"))
    if frame is None or frame.height == 0:
        return pl.DataFrame(schema=RESULT_SCHEMA)
    return frame.sort("recorded_at").unique(["asset", "check"], keep="last").sort("asset", "check")


def quarantined(env: Environment) -> pl.DataFrame:
    """Every quarantined row (empty when none)."""
    frame = read_path(env.table_path("ops.quarantine"))
    return frame if frame is not None else pl.DataFrame(schema=QUARANTINE_SCHEMA)


def save_outcome(env: Environment, asset: str, outcome: ValidationOutcome) -> StoragePath:
    """Keep the latest validation of an asset for Data Docs (failing row indices dropped)."""
    folder = env.reports / "validations"
    make_dirs(folder)
    payload = asdict(outcome)
    for key in ("results", "blocking_failures", "warnings"):
        payload[key] = [{k: v for k, v in r.items() if k != "failing_rows"} for r in payload[key]]
    path = folder / f"{asset}.json"
    with staged(path) as local:  # atomic: Data Docs never read half a file
        local.write_text(json.dumps(payload, default=str, sort_keys=True))
    return path


def load_outcomes(env: Environment) -> list[ValidationOutcome]:
    """Every asset's latest validation, in asset order."""
    folder = env.reports / "validations"
    return [ValidationOutcome(**json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))]


def check_rows(asset: str, outcome: ValidationOutcome, checked: int) -> list[dict[str, object]]:
    """One `ops.quality_results` row per expectation of a validation."""
    return [
        {
            "asset": asset,
            "check": f"{r['expectation_type']}:{r.get('column') or 'table'}",
            "severity": r["severity"],
            "passed": bool(r["success"]),
            "checked": checked,
            "failing": int(r.get("unexpected_count") or 0),
            "failing_share": float(r.get("unexpected_share") or 0.0),
            "sample_keys": [str(k) for k in (r.get("sample_keys") or [])],
            "detail": r.get("family"),
        }
        for r in outcome.results
    ]
