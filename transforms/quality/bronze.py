"""Great Expectations over a newly ingested bronze delivery, with row-count drift."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from transforms.catalogue import Dataset
from transforms.config import Environment
from transforms.delta_io import read_table
from transforms.ingest import ledger
from transforms.ingest.pipeline import ledger_path
from transforms.quality.results import check_rows, save_outcome
from transforms.quality.suites import bronze_suite, load_suite
from transforms.quality.validate import drift_check, validate

MAX_DRIFT_SHARE = 0.5  # rows may change by up to half between deliveries before a warning


@dataclass
class BronzeAudit:
    delivery_id: str | None
    checks: list[dict[str, object]] = field(default_factory=list)

    def failing(self, severity: str) -> list[dict[str, object]]:
        return [
            c
            for c in self.checks
            if not c["passed"] and (c["severity"] == "blocking") == (severity == "blocking")
        ]


def suite_for(env: Environment, dataset: Dataset) -> dict[str, object]:
    """The committed suite file; a dataset added since the suites were written gets its generated one."""
    path = env.expectations_dir / "bronze" / f"{dataset.name}.json"
    return load_suite(path) if path.exists() else bronze_suite(dataset)


def audit_bronze(env: Environment, dataset: Dataset, delivery_id: str | None) -> BronzeAudit:
    """Validate the rows of `delivery_id` (the newest ingested) and compare its size with the last one."""
    audit = BronzeAudit(delivery_id)
    if delivery_id is None:
        return audit
    rows = read_table(env, f"bronze.{dataset.name}").filter(pl.col("_delivery_id") == delivery_id)
    key = dataset.source.record_id[0]
    outcome = validate(rows, suite_for(env, dataset), key_column=key)
    name = f"bronze.{dataset.name}"
    save_outcome(env, name, outcome)
    audit.checks.extend(check_rows(name, outcome, rows.height))
    book = ledger.read(ledger_path(env), dataset.name).filter(pl.col("status") == "ingested")
    earlier = book.filter(pl.col("delivery_id") != delivery_id)
    previous = int(earlier["rows"][-1]) if earlier.height else None
    drift = drift_check(rows.height, previous, MAX_DRIFT_SHARE)
    audit.checks.append(
        {
            "asset": name,
            "check": "row_count_drift",
            "severity": "warn",
            "passed": bool(drift["success"]),
            "checked": rows.height,
            "failing": 0 if drift["success"] else rows.height,
            "failing_share": 0.0,
            "sample_keys": [],
            "detail": str(drift.get("detail", "")),
        }
    )
    return audit
