"""`ops.deliveries`: the append-only Delta ledger of every delivery and what became of it.

Delta commit metadata disappears when old log entries are cleaned up; this ledger is the
lasting record of which deliveries were ingested, rejected or recognised as duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import polars as pl
import pyarrow as pa

from transforms.delta_io import read_path, write_commit
from transforms.storage import StoragePath

Status = Literal["ingested", "rejected", "duplicate"]
LEDGER_SCHEMA = pa.schema(
    [
        ("delivery_id", pa.string()),
        ("dataset", pa.string()),
        ("files", pa.list_(pa.string())),
        ("sha256", pa.list_(pa.string())),
        ("fingerprint", pa.string()),
        ("rows", pa.int64()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("delta_version", pa.int64()),
        ("run_id", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class LedgerEntry:
    """One delivery's fate."""

    delivery_id: str
    dataset: str
    status: Status
    files: list[str] = field(default_factory=list)
    sha256: list[str] = field(default_factory=list)
    fingerprint: str = ""
    rows: int = 0
    reason: str | None = None
    delta_version: int | None = None
    run_id: str | None = None


def append(ledger_path: StoragePath, entry: LedgerEntry) -> None:
    """Record one delivery (one Delta commit)."""
    row = {**entry.__dict__, "recorded_at": datetime.now(UTC)}
    table = pa.Table.from_pylist([row], schema=LEDGER_SCHEMA)
    write_commit(
        ledger_path,
        table,
        mode="append",
        metadata={
            "dataset": entry.dataset,
            "delivery_id": entry.delivery_id,
            "status": entry.status,
        },
    )


def read(ledger_path: StoragePath, dataset: str | None = None) -> pl.DataFrame:
    """The ledger (optionally of one dataset), empty with the right columns when new."""
    frame = read_path(ledger_path)
    if frame is None:
        frame = pl.from_arrow(LEDGER_SCHEMA.empty_table())  # type: ignore[assignment]
    assert isinstance(frame, pl.DataFrame)
    frame = frame.sort("recorded_at", maintain_order=True)
    return frame if dataset is None else frame.filter(pl.col("dataset") == dataset)


def settled_ids(ledger: pl.DataFrame) -> set[str]:
    """Deliveries that need no more work: ingested or recognised as duplicates."""
    done = ledger.filter(pl.col("status").is_in(["ingested", "duplicate"]))
    return set(done.get_column("delivery_id").to_list())


def ingested_fingerprints(ledger: pl.DataFrame) -> dict[str, str]:
    """Fingerprint -> delivery id of every ingested delivery, to spot identical re-deliveries."""
    done = ledger.filter(pl.col("status") == "ingested")
    return dict(zip(done.get_column("fingerprint"), done.get_column("delivery_id"), strict=True))
