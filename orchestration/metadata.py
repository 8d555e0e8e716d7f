"""Helpers that turn results into Dagster metadata a person can read in the UI."""

from __future__ import annotations

from typing import Any

import dagster as dg
import polars as pl


def _column_type(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or dtype.is_decimal():
        return "float"
    if dtype == pl.Boolean:
        return "bool"
    return "string"


def _cell(value: Any, kind: str) -> str | int | float | bool | None:
    if value is None:
        return None
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return bool(value)
    return value if isinstance(value, str) else str(value)


def table_metadata(frame: pl.DataFrame, limit: int = 200) -> dg.MetadataValue:
    """A DataFrame (first `limit` rows) as Dagster table metadata: typed, sortable in the UI.

    Integer, float and boolean columns keep their type; every other column (text, dates, lists,
    structs) is shown as its string form; nulls stay empty.
    """
    kinds = {name: _column_type(dtype) for name, dtype in frame.schema.items()}
    records = [
        dg.TableRecord({name: _cell(row[name], kinds[name]) for name in frame.columns})
        for row in frame.head(limit).iter_rows(named=True)
    ]
    schema = dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in kinds.items()])
    return dg.MetadataValue.table(records=records, schema=schema)
