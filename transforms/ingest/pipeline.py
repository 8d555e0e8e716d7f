"""Ingest every pending delivery of one dataset into `delta/bronze/<dataset>`.

The same function serves every dataset: the catalogue entry says how to read it.
Each delivery becomes exactly one Delta commit (`cut`: overwrite, `feed`: append) and one
ledger row; a bad delivery is quarantined and changes nothing stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import polars as pl
import pyarrow as pa

from transforms.catalogue import Dataset
from transforms.config import Environment
from transforms.delta_io import current_version, history, write_commit
from transforms.ingest import ledger
from transforms.ingest.delivery import Delivery, delivery_folders, open_delivery, quarantine
from transforms.ingest.errors import AuthorisationError, DeliveryRejected
from transforms.ingest.read import read_file
from transforms.ingest.validate import arrow_schema, check_record_ids, check_required, conform
from transforms.locks import exclusive
from transforms.storage import StoragePath

LINEAGE_FIELDS = [
    pa.field("_delivery_id", pa.string(), nullable=False),
    pa.field("_source_file", pa.string(), nullable=False),
    pa.field("_row_number", pa.int64(), nullable=False),
    pa.field("_ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
]


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one delivery."""

    delivery_id: str
    status: ledger.Status
    rows: int = 0
    delta_version: int | None = None
    reason: str | None = None


@dataclass
class IngestSummary:
    """What one ingestion run did for a dataset."""

    dataset: str
    outcomes: list[IngestOutcome] = field(default_factory=list)
    version: int | None = None

    def count(self, status: ledger.Status) -> int:
        return sum(o.status == status for o in self.outcomes)


def bronze_path(env: Environment, dataset: Dataset) -> StoragePath:
    """Where a dataset's bronze Delta table lives."""
    return env.table_path(f"bronze.{dataset.name}")


def ledger_path(env: Environment) -> StoragePath:
    """Where the delivery ledger lives."""
    return env.table_path("ops.deliveries")


def check_authorisation(dataset: Dataset, today: date) -> None:
    """The gate: no current authorisation, no reading."""
    auth = dataset.authorisation
    if auth is None:
        raise AuthorisationError(dataset.name, None, None, today)
    if not auth.is_current(today):
        raise AuthorisationError(dataset.name, auth.reference, auth.expires_on, today)


def pending_deliveries(env: Environment, dataset: Dataset) -> list[str]:
    """Delivery ids in landing that the ledger has not yet settled."""
    settled = ledger.settled_ids(ledger.read(ledger_path(env), dataset.name))
    return [f.name for f in delivery_folders(env, dataset) if f.name not in settled]


def ingest_dataset(
    env: Environment,
    dataset: Dataset,
    *,
    today: date | None = None,
    run_id: str | None = None,
    deliveries: Sequence[str] | None = None,
) -> IngestSummary:
    """Ingest, in order, every pending delivery of `dataset`, or only those in `deliveries`.

    Safe to re-run at any point, and to run twice at once: a per-dataset lock makes the second
    caller wait, then find the delivery settled (so nothing is committed twice).
    """
    check_authorisation(dataset, today or date.today())
    summary = IngestSummary(dataset.name)
    with exclusive(env, f"ingest-{dataset.name}", f"ingestion of {dataset.name} ({run_id})"):
        wanted = None if deliveries is None else set(deliveries)
        for delivery_id in pending_deliveries(env, dataset):
            if wanted is not None and delivery_id not in wanted:
                continue
            delivery = open_delivery(dataset, env.landing / dataset.name / delivery_id)
            summary.outcomes.append(_ingest_one(env, dataset, delivery, run_id))
        summary.version = current_version(bronze_path(env, dataset))
    return summary


def _ingest_one(
    env: Environment, dataset: Dataset, delivery: Delivery, run_id: str | None
) -> IngestOutcome:
    book = ledger.read(ledger_path(env), dataset.name)
    entry = dict(
        delivery_id=delivery.delivery_id,
        dataset=dataset.name,
        files=[delivery.label(p) for p in delivery.files],
        sha256=list(delivery.sha256),
        fingerprint=delivery.fingerprint,
        run_id=run_id,
    )
    original = ledger.ingested_fingerprints(book).get(delivery.fingerprint)
    if original is not None:
        reason = f"identical to delivery {original}"
        ledger.append(
            ledger_path(env), ledger.LedgerEntry(status="duplicate", reason=reason, **entry)
        )
        return IngestOutcome(delivery.delivery_id, "duplicate", reason=reason)
    committed = _committed_version(env, dataset, delivery)
    if committed is not None:  # a crash after the commit but before the ledger row
        version, rows = committed
    else:
        try:
            data = load_delivery(dataset, delivery)
        except DeliveryRejected as rejection:
            quarantine(env, delivery, rejection)
            ledger.append(
                ledger_path(env),
                ledger.LedgerEntry(status="rejected", reason=str(rejection), **entry),
            )
            return IngestOutcome(delivery.delivery_id, "rejected", reason=str(rejection))
        rows = data.num_rows
        version = write_commit(
            bronze_path(env, dataset),
            data,
            mode="overwrite" if dataset.access == "cut" else "append",
            metadata={
                "delivery_id": delivery.delivery_id,
                "dataset": dataset.name,
                "run_id": run_id or "",
                "fingerprint": delivery.fingerprint,
                **{
                    f"sha256:{delivery.label(p)}": s
                    for p, s in zip(delivery.files, delivery.sha256, strict=True)
                },
            },
        )
    ledger.append(
        ledger_path(env),
        ledger.LedgerEntry(status="ingested", rows=rows, delta_version=version, **entry),
    )
    return IngestOutcome(delivery.delivery_id, "ingested", rows=rows, delta_version=version)


def _committed_version(
    env: Environment, dataset: Dataset, delivery: Delivery
) -> tuple[int, int] | None:
    """The bronze version already holding this delivery's content, if a past run committed it."""
    path = bronze_path(env, dataset)
    if current_version(path) is None:
        return None
    for entry in history(path):
        meta = entry["metadata"]
        if (
            entry["delivery_id"] == delivery.delivery_id
            and meta.get("fingerprint") == delivery.fingerprint
        ):
            return int(entry["version"]), int(entry["rows"] or 0)
    return None


def load_delivery(dataset: Dataset, delivery: Delivery) -> pa.Table:
    """Read, type-check and stamp lineage on every file of a delivery, or reject it whole."""
    if not delivery.files:
        raise DeliveryRejected(
            f"{delivery.dataset}/{delivery.delivery_id}",
            "no data file",
            f"files matching {dataset.source.glob!r}",
            found=", ".join(sorted(p.name for p in delivery.folder.iterdir())) or "an empty folder",
        )
    frames: dict[str, pl.DataFrame] = {}
    for path in delivery.files:
        label = delivery.label(path)
        frame = conform(dataset, read_file(dataset, path, label), label)
        check_required(dataset, frame, label)
        frames[label] = frame
    check_record_ids(dataset, frames)
    ingested_at = datetime.now(UTC)
    stamped = [
        frame.with_columns(
            pl.lit(delivery.delivery_id).alias("_delivery_id"),
            pl.lit(label).alias("_source_file"),
            pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("_row_number"),
            pl.lit(ingested_at, dtype=pl.Datetime("us", "UTC")).alias("_ingested_at"),
        )
        for label, frame in frames.items()
    ]
    return pl.concat(stamped).to_arrow().cast(bronze_schema(dataset))


def bronze_schema(dataset: Dataset) -> pa.Schema:
    """A bronze table's schema: the catalogue's columns, then the lineage columns ingestion adds."""
    return pa.schema([*arrow_schema(dataset), *LINEAGE_FIELDS])
