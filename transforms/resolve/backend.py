"""Which database Splink runs on: DuckDB in-process, or the lakehouse's SparkSession.

Training uses the engine of the environment. Scoring, search and dashboards use the dialect
the model was trained in (it is saved with the model: its comparison SQL is in that dialect),
so a stored model is always scored where it can be read. DuckDB runs within the environment's
memory limit and spills to its temp directory (transforms/duckdb_settings.py).
"""

from __future__ import annotations

from typing import Any

import polars as pl
from splink import DuckDBAPI
from splink.internals.splink_dataframe import SplinkDataFrame

from transforms.config import Environment
from transforms.duckdb_settings import connect
from transforms.resolve.registry import StoredModel


def splink_api(env: Environment, dialect: str | None = None) -> Any:
    """A fresh Splink database API for `dialect` (default: the environment's engine)."""
    dialect = dialect or env.engine
    if dialect == "spark":
        from transforms.spark.splink_api import spark_splink_api

        return spark_splink_api(env)
    if dialect == "duckdb":
        return DuckDBAPI(connection=connect(env))
    raise ValueError(f"no Splink backend for SQL dialect {dialect!r}")


def model_api(env: Environment, model: StoredModel) -> Any:
    """The Splink database API that can score with `model` (the dialect it was trained in)."""
    return splink_api(env, str(model.settings().get("sql_dialect") or "duckdb"))


def to_polars(frame: SplinkDataFrame) -> pl.DataFrame:
    """A Splink result table as polars, from either backend."""
    if frame.db_api.sql_dialect.sql_dialect_str == "spark":
        from transforms.spark.delta import to_arrow

        return pl.from_arrow(to_arrow(frame.as_spark_dataframe()))  # type: ignore[return-value]
    return pl.from_arrow(frame.as_duckdbpyrelation().to_arrow_table())  # type: ignore[return-value]
