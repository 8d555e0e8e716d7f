"""Versioned Splink models: files under `models/er/v<N>/`, their fate in `ops.er_models`.

Prediction only ever uses the latest *approved* model, so a scheduled refresh never silently
retrains: a new model is a candidate until someone approves it (the first one is approved
automatically when the configuration says so, `maybe_auto_approve`). Each event records why
(`reason`): tables written before that column existed read it as null and gain it on append.

A version folder is written under a temporary name and published whole; the registry row is
the commit point, so a folder no row names (left by a crash) is replaced by the next save.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pyarrow as pa

from transforms.config import Environment
from transforms.delta_io import read_path, write_commit
from transforms.resolve.config import ResolutionConfig
from transforms.storage import (
    StoragePath,
    is_local,
    make_dirs,
    move_tree,
    read_parquet,
    remove_tree,
    sha256_file,
    storage_path,
    write_parquet,
)

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
        ("reason", pa.string()),  # why it was trained or approved; null in older rows
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
    if "reason" not in frame.columns:  # written before the column existed
        frame = frame.with_columns(pl.lit(None, pl.String).alias("reason"))
    return frame.sort("recorded_at")


def trained_row(env: Environment, version: int) -> dict[str, Any]:
    """The `trained` event of `version` (LookupError when there is none)."""
    book = registry(env)
    trained = book.filter((pl.col("version") == version) & (pl.col("event") == "trained"))
    if trained.height == 0:
        raise LookupError(f"no trained entity-resolution model version {version}")
    return trained.row(0, named=True)


def stored_model(env: Environment, version: int) -> StoredModel:
    """Trained model `version`, approved or not (LookupError when there is none)."""
    row = trained_row(env, version)
    return StoredModel(version, storage_path(row["path"]), list(row["blocking_rules"]))


def _record(env: Environment, **row: object) -> None:
    row["recorded_at"] = datetime.now(UTC)
    row.setdefault("reason", None)
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
    *,
    reason: str | None = None,
) -> StoredModel:
    """Store a newly trained model as the next version (a candidate until approved).

    The files are written under `.v<N>.partial` and published whole, then the registry row
    is recorded: a crash leaves no row, and the next save replaces what it left behind.
    """
    book = registry(env)
    version = int(book["version"].max() or 0) + 1 if book.height else 1
    parent = env.models / "er"
    folder = parent / f"v{version:04d}"
    staging = parent / f".{folder.name}.partial"
    make_dirs(parent)
    remove_tree(staging)  # a crash while writing
    make_dirs(staging)
    (staging / "model.json").write_text(json.dumps(settings, indent=2, sort_keys=True))
    for column, frame in term_frequencies.items():
        write_parquet(frame, staging / f"tf_{column}.parquet")
    (staging / "blocking_rules.json").write_text(json.dumps(blocking_rules))
    remove_tree(folder)  # no registry row names this version: a crash after publishing
    if is_local(staging):
        staging.rename(folder)  # atomic
    else:
        move_tree(staging, folder)  # an object store has no rename; the row below commits
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
        reason=reason,
    )
    return StoredModel(version, folder, blocking_rules)


def approve(
    env: Environment, version: int, user: str, run_id: str = "", reason: str | None = None
) -> StoredModel:
    """Approve a trained model for prediction (an explicit, recorded act)."""
    row = trained_row(env, version)
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
        reason=reason,
    )
    return stored_model(env, version)


def maybe_auto_approve(
    env: Environment, config: ResolutionConfig, stored: StoredModel, run_id: str
) -> bool:
    """Approve `stored` when no model is approved yet and `training.auto_approve_first` says so."""
    if not config.training.auto_approve_first:
        return False
    if registry(env).filter(pl.col("event") == "approved").height > 0:
        return False
    approve(
        env,
        stored.version,
        user="auto-approve-first",
        run_id=run_id,
        reason="no model was approved (training.auto_approve_first)",
    )
    return True


def approved_records(env: Environment) -> int | None:
    """How many records the latest approved model was trained on (None: none approved)."""
    approved = registry(env).filter(pl.col("event") == "approved")
    if approved.height == 0:
        return None
    return int(approved.sort("version")["records"][-1])


def approved_model(env: Environment) -> StoredModel:
    """The latest approved model."""
    approved = registry(env).filter(pl.col("event") == "approved")
    if approved.height == 0:
        raise NoApprovedModel("no approved entity-resolution model: train one, then approve it")
    row = approved.sort("version").row(-1, named=True)
    return StoredModel(int(row["version"]), storage_path(row["path"]), list(row["blocking_rules"]))
