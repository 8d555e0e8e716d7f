"""Read one delivered file into a DataFrame of raw string/list columns, or say exactly why not.

Fast path: pyarrow's multithreaded CSV reader, polars' NDJSON reader, pyarrow Parquet.
Slow path, only when the fast path fails: a line-by-line diagnosis that names row and field.
"""

from __future__ import annotations

import csv
import io
import json

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from transforms.catalogue import Dataset
from transforms.ingest.errors import DeliveryRejected
from transforms.storage import StoragePath, readable


def read_file(dataset: Dataset, path: StoragePath, label: str) -> pl.DataFrame:
    """Read `path` as the catalogue says; `label` is how the file is named in errors."""
    if path.stat().st_size == 0:
        raise DeliveryRejected(label, "empty file", "at least one data row", found="0 bytes")
    reader = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}[
        dataset.source.format
    ]
    frame = reader(dataset, path, label)
    if frame.height == 0:
        raise DeliveryRejected(label, "empty file", "at least one data row", found="0 data rows")
    return frame


def check_columns(dataset: Dataset, found: list[str], label: str, row: int | None) -> None:
    """Refuse schema drift: a missing or an extra column against the catalogue."""
    expected = dataset.column_names
    missing = [c for c in expected if c not in found]
    if missing:
        raise DeliveryRejected(
            label,
            "missing column",
            f"columns {expected}",
            row=row,
            field=missing[0],
            found=f"columns {found}",
        )
    extra = [c for c in found if c not in expected]
    if extra:
        raise DeliveryRejected(
            label,
            "unexpected column (schema drift)",
            f"columns {expected}",
            row=row,
            field=extra[0],
            found=f"columns {found}",
        )


def _read_csv(dataset: Dataset, path: StoragePath, label: str) -> pl.DataFrame:
    src = dataset.source
    header = _csv_header(dataset, path, label)
    if src.has_header:
        check_columns(dataset, header, label, row=0)
        names = header
    else:
        names = dataset.column_names
    try:
        with readable(path) as source:
            table = pacsv.read_csv(
                source,
                read_options=pacsv.ReadOptions(
                    encoding=src.encoding,
                    column_names=None if src.has_header else names,
                    block_size=16 << 20,
                ),
                parse_options=pacsv.ParseOptions(delimiter=src.separator, newlines_in_values=False),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                ),
            )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise diagnose_csv(dataset, path, label, names) or DeliveryRejected(
            label,
            "unreadable CSV",
            f"{src.encoding} CSV separated by {src.separator!r}",
            found=str(exc).splitlines()[0],
        ) from exc
    return pl.from_arrow(table)  # type: ignore[return-value]


def _csv_header(dataset: Dataset, path: StoragePath, label: str) -> list[str]:
    src = dataset.source
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        text = first.decode(src.encoding)
    except UnicodeDecodeError as exc:
        raise DeliveryRejected(
            label,
            "undecodable bytes in header",
            f"{src.encoding} text",
            row=0,
            found=repr(first[exc.start : exc.end]),
        ) from exc
    text = text.lstrip("\ufeff")
    return next(csv.reader([text.rstrip("\r\n")], delimiter=src.separator), [])


def diagnose_csv(
    dataset: Dataset, path: StoragePath, label: str, names: list[str]
) -> DeliveryRejected | None:
    """Walk the file line by line to name the first bad row and field (slow; failures only)."""
    src = dataset.source
    offset = 1 if src.has_header else 0
    raw_lines = path.read_bytes().split(b"\n")
    for index, raw in enumerate(raw_lines):
        try:
            raw.decode(src.encoding)
        except UnicodeDecodeError as exc:
            text = raw.decode(src.encoding, errors="replace")
            fields = next(csv.reader([text], delimiter=src.separator), [])
            bad = next((i for i, f in enumerate(fields) if "\ufffd" in f), None)
            return DeliveryRejected(
                label,
                "undecodable bytes",
                f"{src.encoding} text",
                row=index + 1 - offset,
                field=names[bad] if bad is not None and bad < len(names) else None,
                found=repr(raw[exc.start : exc.end]),
            )
    text = path.read_bytes().decode(src.encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=src.separator)
    for record in reader:
        row = reader.line_num - offset
        if row < 1 or record == []:
            continue
        if len(record) != len(names):
            field = (
                names[len(record)]
                if len(record) < len(names)
                else f"<extra field {len(names) + 1}>"
            )
            return DeliveryRejected(
                label,
                "ragged row",
                f"{len(names)} fields",
                row=row,
                field=field,
                found=f"{len(record)} fields",
            )
    return None


def _read_jsonl(dataset: Dataset, path: StoragePath, label: str) -> pl.DataFrame:
    try:
        with readable(path) as source:
            frame = pl.read_ndjson(source, infer_schema_length=None)
    except Exception as exc:  # polars raises several error types for bad JSON
        raise diagnose_jsonl(dataset, path, label) or DeliveryRejected(
            label,
            "unreadable JSON lines",
            "one JSON object per line",
            found=str(exc).splitlines()[0],
        ) from exc
    check_columns(dataset, frame.columns, label, row=None)
    return frame.select(dataset.column_names)


def diagnose_jsonl(dataset: Dataset, path: StoragePath, label: str) -> DeliveryRejected | None:
    """Name the first line that is not a UTF-8 JSON object (slow; failures only)."""
    for row, raw in enumerate(path.read_bytes().splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return DeliveryRejected(
                label,
                "undecodable bytes",
                "UTF-8 text",
                row=row,
                found=repr(raw[exc.start : exc.end]),
            )
        except json.JSONDecodeError as exc:
            return DeliveryRejected(
                label, "invalid JSON", "one JSON object per line", row=row, found=exc.msg
            )
        if not isinstance(value, dict):
            return DeliveryRejected(
                label,
                "not a JSON object",
                "one JSON object per line",
                row=row,
                found=type(value).__name__,
            )
    return None


def _read_parquet(dataset: Dataset, path: StoragePath, label: str) -> pl.DataFrame:
    try:
        with readable(path) as source:
            table = pq.read_table(source)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for corrupt files
        raise DeliveryRejected(
            label,
            "unreadable Parquet file",
            "a valid Parquet file",
            found=str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        ) from exc
    check_columns(dataset, table.column_names, label, row=None)
    return pl.from_arrow(table.select(dataset.column_names))  # type: ignore[return-value]
