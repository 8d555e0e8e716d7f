"""The slice of a catalogue entry the generator needs: file format and exact column layout.

Read straight from the YAML (the full catalogue model lives elsewhere) so the generator depends
only on the contract's text; column names, order, separator, encoding and record id are never
written down twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import yaml

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
    """Every dataset entry in `catalogue_dir/*.yml` by name; files without columns are skipped."""
    contracts: dict[str, Contract] = {}
    for path in sorted(Path(catalogue_dir).glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or "columns" not in doc or "source" not in doc:
            continue
        src = doc["source"]
        rid = src["record_id"]
        columns = tuple(
            ColumnSpec(c["name"], str(c.get("type", "string")), c.get("format"))
            for c in doc["columns"]
        )
        unknown = [c.type for c in columns if c.type not in _POLARS_TYPES]
        if unknown:
            raise ValueError(f"{path.name}: generator cannot write column types {unknown}")
        contracts[doc["name"]] = Contract(
            name=doc["name"],
            access=doc["access"],
            format=src["format"],
            separator=src.get("separator", ","),
            encoding=src.get("encoding", "utf-8"),
            record_id=(rid,) if isinstance(rid, str) else tuple(rid),
            columns=columns,
        )
    return contracts
