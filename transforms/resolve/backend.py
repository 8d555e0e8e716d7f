"""Which database Splink runs on: DuckDB in-process, or the lakehouse's SparkSession.

Training uses the engine of the environment. Scoring, search and dashboards use the dialect
the model was trained in (it is saved with the model: its comparison SQL is in that dialect),
so a stored model is always scored where it can be read. DuckDB runs within the environment's
memory limit and spills to its temp directory (transforms/duckdb_settings.py).

A session is a context manager: leaving it closes its DuckDB connection, which frees every
table Splink made in it (blocked pairs, predictions) at once. Splink's linker and database
objects refer to each other, so without the close that memory waits for Python's cycle
collector: at 1M people, gigabytes held through the steps that follow scoring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
from splink import DuckDBAPI
from splink.internals.splink_dataframe import SplinkDataFrame

from transforms.config import Environment
from transforms.duckdb_settings import connect
from transforms.resolve.registry import StoredModel


@contextmanager
def splink_session(env: Environment, dialect: str | None = None) -> Iterator[Any]:
    """A fresh Splink database API for `dialect` (default: the environment's engine), closed
    on leaving (the Spark session itself is the process's and stays)."""
    dialect = dialect or env.engine
    if dialect == "spark":
        from transforms.spark.splink_api import spark_splink_api

        yield spark_splink_api(env)
        return
    if dialect != "duckdb":
        raise ValueError(f"no Splink backend for SQL dialect {dialect!r}")
    con = connect(env)
    try:
        yield DuckDBAPI(connection=con)
    finally:
        con.close()


def model_session(env: Environment, model: StoredModel) -> Any:
    """A Splink session that can score with `model` (the dialect it was trained in)."""
    return splink_session(env, str(model.settings().get("sql_dialect") or "duckdb"))


def to_polars(frame: SplinkDataFrame, columns: Callable[[str], bool] | None = None) -> pl.DataFrame:
    """A Splink result table as polars, from either backend; only the columns `columns` keeps.

    Splink's predictions carry both records' features, term frequencies and Bayes factors
    beside the match weights: selecting before converting keeps them out of memory."""
    if frame.db_api.sql_dialect.sql_dialect_str == "spark":
        from transforms.spark.delta import to_arrow

        spark = frame.as_spark_dataframe()
        if columns is not None:
            spark = spark.select(*(c for c in spark.columns if columns(c)))
        return pl.from_arrow(to_arrow(spark))  # type: ignore[return-value]
    relation = frame.as_duckdbpyrelation()
    if columns is not None:
        relation = relation.project(
            ", ".join('"' + c.replace('"', '""') + '"' for c in relation.columns if columns(c))
        )
    return pl.from_arrow(relation.to_arrow_table())  # type: ignore[return-value]
