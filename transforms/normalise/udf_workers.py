"""Run the normalisation rules' batches in worker processes, so they use every core.

The rules are Python (nameparser, phonenumbers, strptime): in DuckDB's own threads they hold
the GIL, and a 2-core machine normalised on one. DuckDB calls an Arrow UDF from each of its
threads; the call hands its batch to a worker process and waits (releasing the GIL), so each
DuckDB thread's batches are computed in parallel. Workers are started by `spawn` (never
`fork`: the parent runs DuckDB threads), once per process, and only after the process has
normalised `START_AFTER_ROWS` rows itself: starting them costs seconds (each imports the rules'
libraries), which a small delivery or a test's dbt run never repays. The
results are the same rules on the same values, so they equal the in-process ones (tested).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pyarrow as pa

from transforms.normalise.udfs import UDFS_BY_NAME

WORKERS_VARIABLE = "LAKEHOUSE_NORMALISE_WORKERS"
"""Worker processes for the rules: unset, one per core (none on a 1-core machine); 0 runs them
in the calling process."""

MIN_BATCH_ROWS = 256
"""Smaller batches run in-process: their transfer would cost more than the rules."""

START_AFTER_VARIABLE = "LAKEHOUSE_NORMALISE_WORKERS_AFTER"
START_AFTER_ROWS = 200_000
"""Rows normalised in-process before workers start (`START_AFTER_VARIABLE` overrides): about
as long in-process as two workers take to start, so workers start only when the rest of the
run is long enough to repay them."""

_LOCK = threading.Lock()
_POOL: list[ProcessPoolExecutor | None] = []  # created once; [None] when workers are off
_ROWS_BEFORE_POOL = [0]  # rows normalised in-process while the pool is not yet started


def worker_count() -> int:
    """How many worker processes to use (`WORKERS_VARIABLE`, else one per core, or none)."""
    configured = os.environ.get(WORKERS_VARIABLE, "").strip()
    if configured:
        return max(int(configured), 0)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if cores and cores > 1 else 0


def main_importable() -> bool:
    """Whether a spawned worker can set up this process's `__main__` (the dbt command, a script,
    `python -m`, `python -c`), as `multiprocessing` requires; a host that runs code under a
    made-up main (a pytest-xdist worker) keeps the rules in-process."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        return True
    path = getattr(main, "__file__", None)
    return path is None or Path(path).is_file()


def start_after_rows() -> int:
    """Rows to normalise in-process before starting workers (`START_AFTER_VARIABLE`, else
    `START_AFTER_ROWS`)."""
    configured = os.environ.get(START_AFTER_VARIABLE, "").strip()
    return max(int(configured), 0) if configured else START_AFTER_ROWS


def _pool(rows: int) -> ProcessPoolExecutor | None:
    """The worker pool, started once this process has normalised enough rows in-process."""
    with _LOCK:
        if not _POOL:
            if _ROWS_BEFORE_POOL[0] < start_after_rows():
                _ROWS_BEFORE_POOL[0] += rows
                return None
            workers = worker_count() if main_importable() else 0
            pool = (
                ProcessPoolExecutor(
                    max_workers=workers, mp_context=multiprocessing.get_context("spawn")
                )
                if workers
                else None
            )
            _POOL.append(pool)
            if pool is not None:
                atexit.register(pool.shutdown, wait=False, cancel_futures=True)
        return _POOL[0]


def apply_rule(name: str, columns: list[pa.Array]) -> pa.Array:
    """The rule `name` over one batch, row by row (in whichever process runs it)."""
    udf = UDFS_BY_NAME[name]
    values = [column.to_pylist() for column in columns]
    return pa.array([udf.rule(*row) for row in zip(*values, strict=True)], type=udf.arrow_type)


def run_batch(name: str, columns: list[pa.Array]) -> pa.Array:
    """`apply_rule` in a worker process when workers are on and the batch is worth sending."""
    rows = len(columns[0]) if columns else 0
    pool = _pool(rows) if rows >= MIN_BATCH_ROWS else None
    if pool is None:
        return apply_rule(name, columns)
    chunks = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]
    try:
        return pool.submit(apply_rule, name, chunks).result()
    except BrokenProcessPool:  # a worker died (killed, out of memory): go on in-process
        with _LOCK:
            _POOL[:] = [None]
        return apply_rule(name, columns)


def workers_running() -> int:
    """Worker processes alive now (0 before they start, or with workers off)."""
    with _LOCK:
        started = bool(_POOL) and _POOL[0] is not None
    return len(multiprocessing.active_children()) if started else 0


def shutdown() -> None:
    """Stop the workers; they start again as at first (tests, and a clean exit)."""
    with _LOCK:
        pool = _POOL[0] if _POOL else None
        _POOL.clear()
        _ROWS_BEFORE_POOL[0] = 0
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
