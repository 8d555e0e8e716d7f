"""Great Expectations over a newly ingested bronze delivery, with row-count drift."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from transforms.catalogue import Dataset
from transforms.config import Environment
from transforms.delta_io import open_table, read_where_in
from transforms.ingest import ledger
from transforms.ingest.pipeline import IngestOutcome, ingest_dataset, ledger_path
from transforms.quality.results import check_rows, record_results, save_outcome
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
    rows = delivery_rows(env, dataset, delivery_id)
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


def delivery_rows(env: Environment, dataset: Dataset, delivery_id: str) -> pl.DataFrame:
    """The rows of one delivery as bronze holds them. The filter is pushed into the scan, so a
    feed's earlier deliveries (files whose `_delivery_id` statistics rule them out) are not read."""
    table = open_table(env.table_path(f"bronze.{dataset.name}"))
    columns = table.to_pyarrow_dataset().schema.names
    return pl.from_arrow(read_where_in(table, columns, "_delivery_id", [delivery_id]))  # type: ignore[return-value]


@dataclass
class DeliveryRun:
    """One delivery taken through ingestion and its audit (a bronze partition's run)."""

    dataset: str
    delivery_id: str
    outcome: IngestOutcome  # this run's, or the ledger's record of an earlier run
    changed_bronze: bool  # whether this run committed the delivery to bronze
    version: int | None  # the bronze table's version after the run
    audit: BronzeAudit

    @property
    def accepted(self) -> bool:
        return self.outcome.status != "rejected"


def earlier_outcome(env: Environment, dataset: Dataset, delivery_id: str) -> IngestOutcome:
    """What the ledger says became of a delivery settled by an earlier run."""
    book = ledger.read(ledger_path(env), dataset.name).filter(pl.col("delivery_id") == delivery_id)
    if book.height == 0:
        raise LookupError(
            f"{dataset.name}: no delivery {delivery_id!r} in landing or in the ledger ops.deliveries"
        )
    row = book.row(-1, named=True)
    return IngestOutcome(
        delivery_id,
        row["status"],
        rows=int(row["rows"] or 0),
        delta_version=row["delta_version"],
        reason=row["reason"],
    )


def ingest_and_audit(
    env: Environment, dataset: Dataset, delivery_id: str, run_id: str
) -> DeliveryRun:
    """Ingest one delivery (if still pending), validate its rows and record the check results.

    Re-running a settled delivery changes nothing stored and validates its rows again.
    """
    summary = ingest_dataset(env, dataset, run_id=run_id, deliveries=[delivery_id])
    if summary.outcomes:
        outcome, changed = summary.outcomes[0], summary.outcomes[0].status == "ingested"
    else:
        outcome, changed = earlier_outcome(env, dataset, delivery_id), False
    audit = audit_bronze(env, dataset, delivery_id if outcome.status == "ingested" else None)
    record_results(env, audit.checks, run_id)
    return DeliveryRun(dataset.name, delivery_id, outcome, changed, summary.version, audit)
