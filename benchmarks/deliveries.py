"""Benchmark deliveries: move generated deliveries into landing, and cut an incremental one."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow.parquet as pq

from transforms.catalogue import Dataset


def land(source: Path, landing: Path, delivery_id: str, only: set[str] | None = None) -> None:
    """Copy every dataset's (or `only` these datasets') delivery `delivery_id` from the generated
    tree into landing."""
    for folder in sorted(source.glob(f"*/{delivery_id}")):
        if only is not None and folder.parent.name not in only:
            continue
        target = landing / folder.parent.name / delivery_id
        shutil.copytree(folder, target)


def _sample_lines(path: Path, keep: np.ndarray, has_header: bool) -> int:
    lines = path.read_bytes().splitlines(keepends=True)
    header, rows = (lines[:1], lines[1:]) if has_header else ([], lines)
    path.write_bytes(b"".join(header + [rows[i] for i in keep]))
    return len(rows)


def shrink_feed(folder: Path, dataset: Dataset, rows: int, seed: int) -> int:
    """Keep `rows` random records of each file of a feed delivery (bytes untouched otherwise)."""
    kept = 0
    rng = np.random.default_rng(seed)
    for path in sorted(folder.glob(dataset.source.glob)):
        if dataset.source.format == "parquet":
            table = pq.read_table(path)
            keep = np.sort(rng.choice(table.num_rows, min(rows, table.num_rows), replace=False))
            pq.write_table(table.take(keep), path)
        else:
            header = dataset.source.format == "csv" and dataset.source.has_header
            total = sum(1 for _ in path.open("rb")) - int(header)
            keep = np.sort(rng.choice(total, min(rows, total), replace=False))
            if _sample_lines(path, keep, header) != total:
                raise ValueError(f"{path}: records span lines; cannot sample it line by line")
        kept += len(keep)
    return kept


def incremental_delivery(
    source: Path,
    landing: Path,
    catalogue: dict[str, Dataset],
    delivery_id: str,
    first_rows: dict[str, int],
    share: float,
    seed: int = 7,
    access: Literal["cut", "feed"] | None = None,
) -> dict[str, int]:
    """Land delivery `delivery_id` (only the datasets of one `access` when given), feeds cut
    down to `share` of their first delivery's rows.

    Cut datasets are full snapshots by definition: the generator's next snapshot changes about
    1% of them (records leaving and joining), so it is landed as it is.
    """
    wanted_names = {n for n, d in catalogue.items() if access is None or d.access == access}
    land(source, landing, delivery_id, wanted_names)
    rows: dict[str, int] = {}
    for name, dataset in catalogue.items():
        folder = landing / name / delivery_id
        if name not in wanted_names or not folder.exists():
            continue
        if dataset.access == "feed":
            wanted = max(1, round(first_rows.get(name, 0) * share))
            rows[name] = shrink_feed(folder, dataset, wanted, seed)
        else:
            rows[name] = -1  # a full snapshot; its changed share is measured downstream
    return rows
