"""Versioned Splink models: files under `models/er/v<N>/`, their fate in `ops.er_models`.

Prediction only ever uses the latest *approved* model, so a scheduled refresh never silently
retrains: a new model is a candidate until someone approves it (the first one is approved
automatically when the configuration says so).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
import pyarrow as pa

from transforms.config import Environment
from transforms.delta_io import read_path, write_commit
from transforms.ingest.delivery import sha256_file
from transforms.storage import StoragePath, read_parquet, storage_path, write_parquet

TF_COLUMNS = ("given_name", "family_name")
REGISTRY_SCHEMA = pa.schema(
    [
        ("version", pa.int64()),
        ("event", pa.string()),  # trained | approved
        ("path", pa.string()),
        ("sha256", pa.string()),
        ("blocking_rules", pa.list_(pa.string())),
        ("records", pa.int64()),
        ("user", pa.string()),
        ("run_id", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]
)


class NoApprovedModel(LookupError):
    """Prediction needs an approved model; none exists yet."""


@dataclass(frozen=True)
class StoredModel:
    """One trained model and the frozen term-frequency tables it scores with."""

    version: int
    folder: StoragePath
    blocking_rules: list[str]

    @property
    def settings_path(self) -> StoragePath:
        return self.folder / "model.json"

    def settings(self) -> dict[str, object]:
        return json.loads(self.settings_path.read_text())

    def term_frequencies(self, column: str) -> pl.DataFrame:
        return read_parquet(self.folder / f"tf_{column}.parquet")


def _registry_path(env: Environment) -> StoragePath:
    return env.table_path("ops.er_models")


def registry(env: Environment) -> pl.DataFrame:
    frame = read_path(_registry_path(env))
    if frame is None:
        return pl.from_arrow(REGISTRY_SCHEMA.empty_table())  # type: ignore[return-value]
    return frame.sort("recorded_at")


def _record(env: Environment, **row: object) -> None:
    row["recorded_at"] = datetime.now(UTC)
    write_commit(
        _registry_path(env),
        pa.Table.from_pylist([row], schema=REGISTRY_SCHEMA),
        mode="append",
        metadata={"event": str(row["event"]), "version": str(row["version"])},
    )


def save_model(
    env: Environment,
    settings: dict[str, object],
    term_frequencies: dict[str, pl.DataFrame],
    blocking_rules: list[str],
    records: int,
    run_id: str,
) -> StoredModel:
    """Store a newly trained model as the next version (a candidate until approved)."""
    book = registry(env)
    version = int(book["version"].max() or 0) + 1 if book.height else 1
    folder = env.models / "er" / f"v{version:04d}"
    folder.mkdir(parents=True, exist_ok=False)
    (folder / "model.json").write_text(json.dumps(settings, indent=2, sort_keys=True))
    for column, frame in term_frequencies.items():
        write_parquet(frame, folder / f"tf_{column}.parquet")
    (folder / "blocking_rules.json").write_text(json.dumps(blocking_rules))
    _record(
        env,
        version=version,
        event="trained",
        path=str(folder),
        sha256=sha256_file(folder / "model.json"),
        blocking_rules=blocking_rules,
        records=records,
        user="pipeline",
        run_id=run_id,
    )
    return StoredModel(version, folder, blocking_rules)


def approve(env: Environment, version: int, user: str, run_id: str = "") -> StoredModel:
    """Approve a trained model for prediction (an explicit, recorded act)."""
    book = registry(env)
    trained = book.filter((pl.col("version") == version) & (pl.col("event") == "trained"))
    if trained.height == 0:
        raise LookupError(f"no trained entity-resolution model version {version}")
    row = trained.row(0, named=True)
    _record(
        env,
        version=version,
        event="approved",
        path=row["path"],
        sha256=row["sha256"],
        blocking_rules=row["blocking_rules"],
        records=row["records"],
        user=user,
        run_id=run_id,
    )
    return StoredModel(version, storage_path(row["path"]), list(row["blocking_rules"]))


def approved_model(env: Environment) -> StoredModel:
    """The latest approved model."""
    approved = registry(env).filter(pl.col("event") == "approved")
    if approved.height == 0:
        raise NoApprovedModel("no approved entity-resolution model: train one, then approve it")
    row = approved.sort("version").row(-1, named=True)
    return StoredModel(int(row["version"]), storage_path(row["path"]), list(row["blocking_rules"]))
