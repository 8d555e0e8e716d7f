"""Tabular Dagster metadata: typed table values instead of hand-built Markdown."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl

from orchestration.metadata import table_metadata


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "name": ["a | b", "line one\nline two", None],
            "rows": [1, None, 3],
            "share": [0.5, 0.25, None],
            "ok": [True, False, None],
            "tags": [["x", "y"], [], None],
            "day": [dt.date(2024, 1, 2), None, dt.date(2024, 3, 4)],
        }
    )


def test_table_metadata_keeps_cells_exactly_and_maps_types() -> None:
    value = table_metadata(_frame())
    assert isinstance(value, dg.TableMetadataValue)
    assert [(c.name, c.type) for c in value.schema.columns] == [
        ("name", "string"),
        ("rows", "int"),
        ("share", "float"),
        ("ok", "bool"),
        ("tags", "string"),
        ("day", "string"),
    ]
    first, second, third = (record.data for record in value.records)
    assert first == {
        "name": "a | b",
        "rows": 1,
        "share": 0.5,
        "ok": True,
        "tags": str(["x", "y"]),
        "day": "2024-01-02",
    }
    assert second["name"] == "line one\nline two" and second["rows"] is None
    assert second["ok"] is False
    assert third["name"] is None and third["share"] is None and third["tags"] is None
    assert isinstance(first["rows"], int) and isinstance(first["share"], float)


def test_table_metadata_honours_limit_and_serialises() -> None:
    frame = pl.DataFrame({"n": list(range(500)), "label": [f"r{i}" for i in range(500)]})
    assert len(table_metadata(frame).records) == 200
    limited = table_metadata(frame, limit=7)
    assert [r.data["n"] for r in limited.records] == list(range(7))
    assert len(table_metadata(frame.head(0)).records) == 0
    # The value must be accepted where Dagster takes metadata.
    result = dg.MaterializeResult(metadata={"t": limited})
    assert result.metadata["t"] == limited
