"""The slice of a catalogue entry the generator needs: file format and exact column layout.

Taken from the validated catalogue, so column names, order, separator, encoding and record id
are never written down twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa

from transforms.catalogue import load_catalogue

_EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}
_POLARS_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "int64": pl.Int64(),
    "list<string>": pl.List(pl.String()),
}
_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "list<string>": pa.list_(pa.string()),
}


@dataclass(frozen=True)
class ColumnSpec:
    """One delivered column."""

    name: str
    type: str
    format: str | None


@dataclass(frozen=True)
class Contract:
    """How one dataset's delivery files must look."""

    name: str
    access: str  # "cut" (full snapshot per delivery) or "feed" (new + re-delivered records)
    format: str  # csv | jsonl | parquet
    separator: str
    encoding: str
    record_id: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self.format]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    def polars_schema(self) -> dict[str, pl.DataType]:
        return {c.name: _POLARS_TYPES[c.type] for c in self.columns}

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, _ARROW_TYPES[c.type]) for c in self.columns])


def load_contracts(catalogue_dir: Path) -> dict[str, Contract]:
    """Every dataset of the (validated) catalogue, as the generator needs it."""
    contracts: dict[str, Contract] = {}
    for name, dataset in load_catalogue(catalogue_dir).items():
        columns = tuple(ColumnSpec(c.name, c.type, c.format) for c in dataset.columns)
        unknown = [c.type for c in columns if c.type not in _POLARS_TYPES]
        if unknown:
            raise ValueError(f"catalogue/{name}.yml: generator cannot write column types {unknown}")
        contracts[name] = Contract(
            name=name,
            access=dataset.access,
            format=dataset.source.format,
            separator=dataset.source.separator,
            encoding=dataset.source.encoding,
            record_id=tuple(dataset.source.record_id),
            columns=columns,
        )
    return contracts
