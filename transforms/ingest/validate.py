"""Cast raw columns to their catalogue types and check what must hold within a delivery.

Every failure names the file, the (1-based data) row and the field.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from transforms.catalogue import Column, Dataset
from transforms.ingest.errors import DeliveryRejected

POLARS_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "int64": pl.Int64(),
    "float64": pl.Float64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "timestamp": pl.Datetime("us", "UTC"),
    "list<string>": pl.List(pl.String()),
}


def arrow_schema(dataset: Dataset) -> pa.Schema:
    """The bronze schema of a dataset's raw columns (lineage columns are added separately)."""
    return pl.Schema({c.name: POLARS_TYPES[c.type] for c in dataset.columns}).to_arrow()


def conform(dataset: Dataset, frame: pl.DataFrame, label: str) -> pl.DataFrame:
    """Cast every column to its declared type; refuse values that do not fit."""
    return frame.select(_cast(frame, column, label) for column in dataset.columns)


def _cast(frame: pl.DataFrame, column: Column, label: str) -> pl.Series:
    series = frame.get_column(column.name)
    target = POLARS_TYPES[column.type]
    if series.dtype == target:
        return series
    if series.dtype == pl.Null:
        return series.cast(target)
    if isinstance(target, pl.List) and not isinstance(series.dtype, pl.List):
        _refuse_type(series, column, label, series.is_not_null())
    try:
        if column.type == "string" and series.dtype.is_nested():
            raise pl.exceptions.InvalidOperationError("nested value where text expected")
        cast = series.cast(target, strict=False)
    except pl.exceptions.PolarsError:
        _refuse_type(series, column, label, series.is_not_null())
    _refuse_type(series, column, label, cast.is_null() & series.is_not_null())
    return cast


def _refuse_type(series: pl.Series, column: Column, label: str, bad: pl.Series) -> None:
    positions = bad.arg_true()
    if positions.len() == 0:
        return
    first = int(positions[0])
    raise DeliveryRejected(
        label,
        "value of the wrong type",
        column.type,
        row=first + 1,
        field=column.name,
        found=repr(series[first]),
    )


def check_required(dataset: Dataset, frame: pl.DataFrame, label: str) -> None:
    """Non-nullable columns have a value in every row."""
    for column in dataset.columns:
        if column.nullable:
            continue
        nulls = frame.get_column(column.name).is_null().arg_true()
        if nulls.len():
            raise DeliveryRejected(
                label,
                "missing required value",
                "a value",
                row=int(nulls[0]) + 1,
                field=column.name,
                found="null",
            )


def check_record_ids(dataset: Dataset, frames: dict[str, pl.DataFrame]) -> None:
    """The record id identifies one row within the whole delivery."""
    keys = dataset.source.record_id
    seen: dict[tuple[object, ...], str] = {}
    for label, frame in frames.items():
        dupes = frame.select(keys).with_row_index("_i").filter(pl.struct(keys).is_duplicated())
        if dupes.height:
            row = dupes.row(1, named=True)
            raise DeliveryRejected(
                label,
                "duplicate record id",
                f"unique {keys} within a delivery",
                row=int(row["_i"]) + 1,
                field=keys[0],
                found=repr([row[k] for k in keys]),
            )
        if len(frames) > 1:
            for index, key in enumerate(frame.select(keys).iter_rows()):
                if key in seen:
                    raise DeliveryRejected(
                        label,
                        "duplicate record id",
                        f"unique {keys} within a delivery",
                        row=index + 1,
                        field=keys[0],
                        found=f"{key!r}, also in {seen[key]}",
                    )
                seen[key] = label
