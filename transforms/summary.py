"""The bronze summary a platform engineer reads after a run: one row per catalogue dataset."""

from __future__ import annotations

import polars as pl
from deltalake import DeltaTable

from transforms.catalogue import Dataset
from transforms.config import Environment
from transforms.ingest import ledger
from transforms.ingest.pipeline import bronze_path, ledger_path


def bronze_summary(env: Environment, catalogue: dict[str, Dataset]) -> pl.DataFrame:
    """Dataset, classification, deliveries by status, current rows and Delta version."""
    book = ledger.read(ledger_path(env))
    rows = []
    for name, dataset in sorted(catalogue.items()):
        mine = book.filter(pl.col("dataset") == name)
        path = str(bronze_path(env, dataset))
        table = DeltaTable(path) if DeltaTable.is_deltatable(path) else None
        rows.append(
            {
                "dataset": name,
                "classification": dataset.classification,
                "access": dataset.access,
                "deliveries": mine.filter(pl.col("status") == "ingested").height,
                "rejected": mine.filter(pl.col("status") == "rejected").height,
                "duplicates": mine.filter(pl.col("status") == "duplicate").height,
                "rows": table.count() if table is not None else 0,
                "delta_version": table.version() if table is not None else None,
            }
        )
    return pl.DataFrame(rows, schema_overrides={"delta_version": pl.Int64})


def layer_summary(env: Environment, layer: str) -> pl.DataFrame:
    """Every Delta table of a layer: rows and current version."""
    root = env.delta / layer
    rows = []
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        if DeltaTable.is_deltatable(str(path)):
            table = DeltaTable(str(path))
            rows.append(
                {
                    "table": f"{layer}.{path.name}",
                    "rows": table.count(),
                    "delta_version": table.version(),
                }
            )
    return pl.DataFrame(
        rows, schema={"table": pl.String, "rows": pl.Int64, "delta_version": pl.Int64}
    )
