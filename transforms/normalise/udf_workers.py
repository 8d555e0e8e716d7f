"""Run the normalisation rules' batches in worker processes, so they use every core.

The rules are Python (nameparser, phonenumbers, strptime): in DuckDB's own threads they hold
the GIL, and a 2-core machine normalised on one. DuckDB calls an Arrow UDF from each of its
threads; the call hands its batch to a worker process and waits (releasing the GIL), so each
DuckDB thread's batches are computed in parallel. Workers are started by `spawn` (never
`fork`: the parent runs DuckDB threads), once per process, on the first large batch. The
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

_LOCK = threading.Lock()
_POOL: list[ProcessPoolExecutor | None] = []  # created once; [None] when workers are off


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


def _pool() -> ProcessPoolExecutor | None:
    with _LOCK:
        if not _POOL:
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
    pool = _pool() if columns and len(columns[0]) >= MIN_BATCH_ROWS else None
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
    """Worker processes alive now (0 before the first large batch, or with workers off)."""
    with _LOCK:
        started = bool(_POOL) and _POOL[0] is not None
    return len(multiprocessing.active_children()) if started else 0


def shutdown() -> None:
    """Stop the workers; the next large batch starts them again (tests, and a clean exit)."""
    with _LOCK:
        pool = _POOL[0] if _POOL else None
        _POOL.clear()
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
