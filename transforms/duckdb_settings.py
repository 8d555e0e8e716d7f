"""Every DuckDB connection the lakehouse opens, with the memory it may use and where it spills.

DuckDB takes 80% of the machine's memory unless told otherwise, and a query that needs more is
killed (or takes the machine with it). With `memory_limit` and a `temp_directory` set, sorts,
joins and aggregates that outgrow the limit spill to disk instead. dbt gets the same values
through `profiles.yml` (`export_environment` sets the variables it reads).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from transforms.config import Environment

__all__ = ["connect", "duckdb_settings"]


def duckdb_settings(env: Environment) -> dict[str, str]:
    """DuckDB's options for `env`; makes the spill folder, as DuckDB creates only its last level."""
    env.temp_directory.mkdir(parents=True, exist_ok=True)
    settings = {"temp_directory": str(env.temp_directory)}
    if env.memory_limit:
        settings["memory_limit"] = env.memory_limit
    return settings


def connect(
    env: Environment, database: str | Path = ":memory:", *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with `env`'s memory limit and spill folder applied from the start.

    One process may hold several connections to the same file only if they share their options,
    so open a warehouse through here everywhere or nowhere."""
    return duckdb.connect(str(database), read_only=read_only, config=duckdb_settings(env))
