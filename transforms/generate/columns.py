"""Tiny helpers for turning numpy arrays into polars columns with nulls."""

from __future__ import annotations

import numpy as np
import polars as pl


def nullable(
    name: str, values: np.ndarray, valid: np.ndarray, dtype: pl.DataType | None = None
) -> pl.Series:
    """A Series of `values` with null wherever `valid` is False (avoids numpy object arrays)."""
    series = pl.Series(name, values, dtype=dtype)
    invalid = np.flatnonzero(~np.asarray(valid, dtype=bool))
    if len(invalid):
        series.scatter(invalid, None)
    return series
