"""Helpers that turn results into Dagster metadata a person can read in the UI."""

from __future__ import annotations

import polars as pl


def markdown_table(frame: pl.DataFrame, limit: int = 200) -> str:
    """A DataFrame as a Markdown table (first `limit` rows)."""
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    rows = "".join(
        "| " + " | ".join("" if v is None else str(v) for v in row) + " |\n"
        for row in frame.head(limit).iter_rows()
    )
    return header + rows
