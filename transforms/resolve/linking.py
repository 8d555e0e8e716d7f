"""Splink plumbing shared by training, scoring and search: tables, linkers, frozen TF tables."""

from __future__ import annotations

import logging
import uuid

import polars as pl
from splink import Linker, SettingsCreator
from splink.internals.database_api import DatabaseAPISubClass
from splink.internals.splink_dataframe import SplinkDataFrame

from transforms.resolve.registry import TF_COLUMNS, StoredModel


def session_unique(name: str) -> str:
    """A table name no earlier registration in the process has used.

    Spark keeps registered tables as temporary views of the process's one session, so names
    reused by the next training or scoring run would collide; DuckDB names them per API.
    """
    return f"{name}_{uuid.uuid4().hex[:8]}"


def register_by_dataset(
    db: DatabaseAPISubClass, features: pl.DataFrame, prefix: str = ""
) -> list[SplinkDataFrame]:
    """One Splink table per source dataset (the shape `link_and_dedupe` expects)."""
    tables = []
    for (dataset,), rows in features.group_by("source_dataset", maintain_order=True):
        tables.append(
            db.register(
                rows.to_arrow(),
                dataset_display_name=str(dataset),
                table_name=session_unique(f"{prefix}{dataset}"),
            )
        )
    return tables


def term_frequencies(features: pl.DataFrame, column: str) -> pl.DataFrame:
    """Relative frequency of each value of `column`, in the shape Splink registers."""
    values = features.get_column(column).drop_nulls()
    return (
        values.value_counts(name="n")
        .with_columns((pl.col("n") / max(values.len(), 1)).alias(f"tf_{column}"))
        .select(column, f"tf_{column}")
        .sort(column)
    )


def linker_for(
    db: DatabaseAPISubClass,
    tables: list[SplinkDataFrame],
    settings: SettingsCreator | dict[str, object],
    frozen_tf: dict[str, pl.DataFrame],
) -> Linker:
    """A linker whose term frequencies are the frozen ones (so scores depend only on the pair)."""
    linker = Linker(tables, settings, log_level=logging.WARNING)
    for column in TF_COLUMNS:
        linker.table_management.register_term_frequency_lookup(
            db.register(frozen_tf[column].to_arrow(), table_name=session_unique(f"__tf_{column}")),
            column,
        )
    return linker


def model_linker(
    db: DatabaseAPISubClass, tables: list[SplinkDataFrame], model: StoredModel
) -> Linker:
    """A linker scoring with a stored, approved model."""
    return linker_for(
        db, tables, model.settings(), {c: model.term_frequencies(c) for c in TF_COLUMNS}
    )
