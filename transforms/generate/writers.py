"""Write a delivery file exactly as its contract says (format, separator, encoding, columns).

Output is byte-for-byte deterministic: fixed row order, no timestamps in Parquet metadata.
Files are written whole or not at all (`staged`: a temporary name and a rename on a local disk,
one upload on an object store), so a half-written file is never visible.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.generate.contracts import Contract
from transforms.storage import StoragePath, staged


def conform(frame: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """Exactly the contract's columns, in order and type; empty strings become null."""
    expected = contract.column_names
    if sorted(frame.columns) != sorted(expected):
        raise ValueError(
            f"{contract.name}: builder produced columns {frame.columns}, contract says {expected}"
        )
    schema = contract.polars_schema()
    return frame.select(
        (
            pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).cast(t).alias(c)
            if t == pl.String()
            else pl.col(c).cast(t)
        )
        for c, t in schema.items()
    )


def write_delivery(frame: pl.DataFrame, contract: Contract, path: StoragePath) -> None:
    """Write `frame` (already conformed) to `path` in the contract's format."""
    write = {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet}[contract.format]
    with staged(path) as local:
        write(frame, contract, local)


def _write_csv(frame: pl.DataFrame, contract: Contract, path: Path) -> None:
    text = frame.write_csv(separator=contract.separator, include_header=True, line_terminator="\n")
    try:
        data = text.encode(contract.encoding)
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise ValueError(
            f"{contract.name}: {bad!r} cannot be written as {contract.encoding}"
        ) from exc
    path.write_bytes(data)


def _write_jsonl(frame: pl.DataFrame, contract: Contract, path: Path) -> None:
    frame.write_ndjson(path)


def _write_parquet(frame: pl.DataFrame, contract: Contract, path: Path) -> None:
    table = frame.to_arrow().cast(contract.arrow_schema())
    pq.write_table(table, path, compression="zstd")


def plain_arrow(frame: pl.DataFrame) -> pa.Table:
    """Arrow table with plain (not large/view) string and list types, for portable Parquet."""
    table = frame.to_arrow()
    return table.cast(pa.schema([_plain(f) for f in table.schema]))


def write_parquet(frame: pl.DataFrame, path: StoragePath) -> None:
    """Truth tables as Parquet."""
    with staged(path) as local:
        pq.write_table(plain_arrow(frame), local, compression="zstd")


class ParquetAppender:
    """Append frames with one schema to a Parquet file as row groups (keeps memory flat)."""

    def __init__(self, path: StoragePath, schema: pa.Schema) -> None:
        self.path = path
        self._staging = ExitStack()  # closing it publishes the file, failing it discards it
        self._tmp = self._staging.enter_context(staged(path))
        self._schema = schema
        self._writer = pq.ParquetWriter(self._tmp, schema, compression="zstd")

    def append(self, frame: pl.DataFrame) -> None:
        self._writer.write_table(frame.to_arrow().cast(self._schema))

    def close(self) -> None:
        """Finish the file and move it into place."""
        self._writer.close()
        self._staging.close()

    def abort(self) -> None:
        """Discard what was written."""
        self._writer.close()
        error = RuntimeError(f"{self.path}: aborted")
        self._staging.__exit__(type(error), error, None)


def _plain(field: pa.Field) -> pa.Field:
    t = field.type
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return field.with_type(pa.string())
    if pa.types.is_large_list(t) or pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
        value = t.value_type
        if pa.types.is_large_string(value) or pa.types.is_string_view(value):
            value = pa.string()
        return field.with_type(pa.list_(value))
    return field
