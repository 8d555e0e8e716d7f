"""Delta Lake reads with time travel, table history and atomic writes, in one place.

Paths may be local or on an object store: delta-rs is given `str(path)` (a folder or an
`s3://` URI) and reads the standard AWS variables itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable, write_deltalake

from transforms.config import Environment
from transforms.storage import StoragePath, make_dirs


class TableNotFound(LookupError):
    """The named table has never been written."""


def open_table(
    path: StoragePath, version: int | None = None, as_of: datetime | str | None = None
) -> DeltaTable:
    """Open a Delta table, optionally at a version or at a point in time."""
    if not DeltaTable.is_deltatable(str(path)):
        raise TableNotFound(f"no Delta table at {path}")
    table = DeltaTable(str(path), version=version)
    if as_of is not None:
        moment = datetime.fromisoformat(as_of) if isinstance(as_of, str) else as_of
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        table.load_as_version(moment)
    return table


def read_table(
    env: Environment,
    table: str,
    *,
    version: int | None = None,
    as_of: datetime | str | None = None,
    columns: list[str] | None = None,
) -> pl.DataFrame:
    """Time travel: a table named `<layer>.<table>` as it was at `version` or at `as_of`."""
    return pl.from_arrow(
        open_table(env.table_path(table), version, as_of).to_pyarrow_table(columns=columns)
    )  # type: ignore[return-value]


def read_path(path: StoragePath, columns: list[str] | None = None) -> pl.DataFrame | None:
    """The current version of the table at `path` (only `columns`, when given), or None when it
    does not exist yet."""
    if not DeltaTable.is_deltatable(str(path)):
        return None
    table = DeltaTable(str(path)).to_pyarrow_table(columns=columns)
    return pl.from_arrow(table)  # type: ignore[return-value]


def read_ledger(path: StoragePath, schema: pa.Schema) -> pl.DataFrame:
    """An append-only ledger's rows; before its first row, an empty frame with its schema."""
    frame = read_path(path)
    if frame is None:
        empty = pl.from_arrow(schema.empty_table())
        assert isinstance(empty, pl.DataFrame)
        return empty
    return frame


def current_version(path: StoragePath) -> int | None:
    """Latest version of the table at `path`, or None when it does not exist yet."""
    return DeltaTable(str(path)).version() if DeltaTable.is_deltatable(str(path)) else None


def read_where_in(
    table: DeltaTable, columns: list[str], column: str, values: list[str]
) -> pa.Table:
    """`columns` of the rows whose `column` is one of `values`, the filter pushed into the scan.

    delta-rs writes the files of a MERGE with `string_view` columns while the table's schema says
    `string`, and pyarrow cannot compare the two in file statistics: such a table is read whole
    (these columns only) and filtered in memory.
    """
    scan = table.to_pyarrow_dataset()
    wanted = pa.array(values, pa.string())
    try:
        return scan.to_table(columns=columns, filter=pc.field(column).isin(wanted))
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
        whole = scan.to_table(columns=sorted({*columns, column}))
        mask = pc.is_in(whole.column(column).cast(pa.string()), value_set=wanted)
        return whole.filter(mask).select(columns)


def oldest_version(path: StoragePath) -> int:
    """The oldest version still readable: a destruction removes the versions before its own."""
    return min(int(entry["version"]) for entry in DeltaTable(str(path)).history())


def write_commit(
    path: StoragePath,
    data: pa.Table,
    *,
    mode: Literal["append", "overwrite"],
    metadata: dict[str, str],
) -> int:
    """Write `data` as exactly one Delta commit carrying `metadata`; return the new version."""
    make_dirs(path)
    write_deltalake(
        str(path),
        data,
        mode=mode,
        schema_mode="overwrite" if mode == "overwrite" else "merge",
        commit_properties=CommitProperties(custom_metadata=metadata),
    )
    return DeltaTable(str(path)).version()


def history(path: StoragePath) -> list[dict[str, Any]]:
    """Every version of the table, newest first, with operation, time and our commit metadata."""
    table = open_table(path)
    rows = []
    for entry in table.history():
        metrics = entry.get("operationMetrics") or {}
        rows.append(
            {
                "version": entry.get("version"),
                "timestamp": datetime.fromtimestamp(entry["timestamp"] / 1000, tz=UTC),
                "operation": entry.get("operation"),
                "delivery_id": entry.get("delivery_id"),
                "run_id": entry.get("run_id"),
                "rows": _int_or_none(
                    metrics.get(
                        "num_added_rows",
                        metrics.get("numOutputRows", metrics.get("num_target_rows_inserted")),
                    )
                ),
                "metadata": {k: v for k, v in entry.items() if k not in _STANDARD_KEYS},
            }
        )
    return rows


_STANDARD_KEYS = {
    "timestamp",
    "operation",
    "operationParameters",
    "operationMetrics",
    "clientVersion",
    "version",
    "readVersion",
    "isBlindAppend",
    "engineInfo",
    "userMetadata",
}


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, (int, str)) and str(value).isdigit() else None
