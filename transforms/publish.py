"""Publish tables built by dbt in the DuckDB warehouse as Delta tables (one commit each).

dbt-duckdb cannot write Delta, so tables are streamed out of DuckDB as Arrow batches into
`write_deltalake`: the whole table is replaced in one atomic commit, older versions stay readable.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from transforms.config import Environment
from transforms.contract import SILVER_TABLES as SILVER_TABLES  # re-exported
from transforms.delta_io import write_commit
from transforms.duckdb_settings import connect
from transforms.locks import warehouse_lock


@dataclass(frozen=True)
class Published:
    table: str
    rows: int
    version: int


def publish_frames(
    env: Environment,
    layer: str,
    frames: dict[str, pl.DataFrame],
    *,
    run_id: str,
    warehouse: bool = True,
) -> list[Published]:
    """Replace `<layer>.<name>` Delta tables (one commit each) and, for SQL, the warehouse copies."""
    published = []
    for name, frame in frames.items():
        path = env.table_path(f"{layer}.{name}")
        version = write_commit(
            path, frame.to_arrow(), mode="overwrite", metadata={"run_id": run_id}
        )
        published.append(Published(name, frame.height, version))
    if warehouse:
        copy_to_warehouse(env, layer, frames)
    return published


def copy_to_warehouse(env: Environment, layer: str, frames: dict[str, pl.DataFrame]) -> None:
    """Make tables queryable as `<layer>.<name>` in the DuckDB warehouse (one writer at a time)."""
    env.warehouse.parent.mkdir(parents=True, exist_ok=True)  # a fresh local scratch folder
    with warehouse_lock(env, f"copy of {layer} tables"):
        con = connect(env, env.warehouse)
        try:
            con.execute(f'create schema if not exists "{layer}"')
            for name, frame in frames.items():
                con.register("__frame", frame.to_arrow())
                con.execute(f'create or replace table "{layer}"."{name}" as select * from __frame')
                con.unregister("__frame")
        finally:
            con.close()


def append_frame(env: Environment, table: str, frame: pl.DataFrame, *, run_id: str) -> int:
    """Append rows to an ops ledger table (one commit); returns the new version."""
    return write_commit(
        env.table_path(table), frame.to_arrow(), mode="append", metadata={"run_id": run_id}
    )


def read_warehouse_table(env: Environment, layer: str, table: str) -> pl.DataFrame:
    """A table dbt built: from the Spark metastore on Spark, else the DuckDB warehouse (read-only)."""
    if env.engine == "spark":
        from transforms.spark.delta import to_arrow
        from transforms.spark.session import spark_session

        frame = spark_session(env).table(f"`{layer}`.`{table}`")
        return pl.from_arrow(to_arrow(frame))  # type: ignore[return-value]
    with warehouse_lock(env, f"read of {layer}.{table}"):
        con = connect(env, env.warehouse, read_only=True)
        try:
            return pl.from_arrow(con.sql(f'select * from "{layer}"."{table}"').to_arrow_table())  # type: ignore[return-value]
        finally:
            con.close()
