"""The normalisation rules (udfs.py) as vectorised Arrow functions on a DuckDB connection.

Each function receives a batch of values, so the per-call overhead is paid once per batch.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa

from transforms.normalise.udf_workers import run_batch
from transforms.normalise.udfs import UDFS, Udf


def _vectorised(udf: Udf) -> Callable[..., pa.Array]:
    """Wrap a scalar rule as a batch function with the arity DuckDB inspects. The batch runs in
    a worker process (`udf_workers`), so DuckDB's threads normalise in parallel.

    Measured: with the rules memoised, a plain loop beats de-duplicating each batch first."""

    def run(*columns: pa.ChunkedArray | pa.Array) -> pa.Array:
        return run_batch(udf.name, list(columns))

    if len(udf.parameters) == 1:
        return lambda a: run(a)
    if len(udf.parameters) == 2:
        return lambda a, b: run(a, b)
    raise ValueError(f"{udf.name}: UDFs take one or two arguments")


def register_udfs(con: duckdb.DuckDBPyConnection) -> None:
    """Register every rule on a DuckDB connection (idempotent)."""
    for udf in UDFS:
        try:
            con.remove_function(udf.name)
        except (duckdb.InvalidInputException, duckdb.CatalogException):
            pass
        con.create_function(
            udf.name,
            _vectorised(udf),
            list(udf.parameters),
            udf.returns,
            type="arrow",
            null_handling="special",
            side_effects=False,
        )
