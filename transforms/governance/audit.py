"""The one audit writer: every query, search or other governed access appends a row to `ops.audit_log`.

Allowed, refused and failed requests are all recorded, with who asked, why, for which task, what
they ran or searched, which tables it touched, how many rows came back and how long it took.

The rows are hash-chained, so an edited or deleted row shows (`audit_chain.verify_chain` checks):
each row carries `seq` (0, 1, 2, ... with no gaps), `prev_hash` (the previous row's `row_hash`;
`GENESIS`, 64 zeros, for seq 0) and its own `row_hash`. Reading the head of the chain and
appending the next row happen under `audit_lock`, so concurrent audits cannot fork the chain.

The canonical form, for an auditor recomputing a hash independently:

    row_hash = lower-case hex SHA-256 of the UTF-8 bytes of  prev_hash + canonical(row)

where `canonical(row)` is a JSON object of exactly the fields in `HASHED_FIELDS` (every column
but `prev_hash` and `row_hash`), keys sorted, no whitespace (separators `,` and `:`), non-ASCII
characters written as themselves (UTF-8), not as `\\u` escapes, and values as:
- `at`: ISO-8601 in UTC with microseconds and `Z`, e.g. `"2026-12-01T09:30:00.123456Z"`;
- `rows`, `seq`: JSON integers;
- `seconds`: the shortest decimal that reads back as the same double, always with a decimal
  point or exponent (Python's `repr`: `0.0`, `1.25`); not-a-number and infinities as `null`;
- `tables`: a JSON list of strings in stored order;
- a missing value (`None`) as `null`; strings with JSON's standard escapes.
In Python: `sha256((prev_hash + json.dumps(fields, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)).encode()).hexdigest()`.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Literal

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable

from transforms.config import Environment
from transforms.delta_io import write_commit
from transforms.locks import audit_lock
from transforms.storage import StoragePath

AUDIT_LOG = "ops.audit_log"
OUTCOMES = ("allowed", "refused", "error")
Outcome = Literal["allowed", "refused", "error"]
AUDIT_SCHEMA = pa.schema(
    [
        ("audit_id", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("user", pa.string()),
        ("purpose", pa.string()),
        ("action", pa.string()),
        ("sql", pa.string()),
        ("tables", pa.list_(pa.string())),
        ("rows", pa.int64()),
        ("seconds", pa.float64()),
        ("outcome", pa.string()),
        ("reason", pa.string()),
        ("run_id", pa.string()),
        ("task", pa.string()),
        ("seq", pa.int64()),
        ("prev_hash", pa.string()),
        ("row_hash", pa.string()),
    ]
)
GENESIS = "0" * 64  # the prev_hash of seq 0
HASHED_FIELDS = tuple(name for name in AUDIT_SCHEMA.names if name not in ("prev_hash", "row_hash"))
# Each audit commit names the row it added, so the next audit finds the head without a scan.
HEAD_SEQ = "audit_seq"
HEAD_HASH = "audit_row_hash"


def canonical(row: Mapping[str, object]) -> str:
    """The canonical JSON of a row's hashed fields (the module docstring defines it)."""
    return json.dumps(
        {name: _canonical_value(row.get(name)) for name in HASHED_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def chain_hash(prev_hash: str, row: Mapping[str, object]) -> str:
    """The `row_hash` of `row` chained onto `prev_hash`."""
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


def _canonical_value(value: object) -> object:
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_canonical_value(item) for item in value]
    return value


def audit(
    env: Environment,
    *,
    user: str,
    purpose: str,
    action: str,
    sql: str | None,
    tables: Sequence[str],
    rows: int,
    seconds: float,
    outcome: Outcome,
    reason: str | None = None,
    run_id: str | None = None,
    task: str | None = None,
) -> str:
    """Append one chained row to `ops.audit_log` (one Delta commit); returns its `audit_id`."""
    if outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of {OUTCOMES}, not {outcome!r}")
    if not action:
        raise ValueError("audit action must name what was done (e.g. 'sql', 'search')")
    audit_id = uuid.uuid4().hex
    path = env.table_path(AUDIT_LOG)
    with audit_lock(env, f"an audit of {action} by {user}"):
        head = chain_head(path)
        seq, prev_hash = (0, GENESIS) if head is None else (head[0] + 1, head[1])
        row: dict[str, object] = {
            "audit_id": audit_id,
            "at": datetime.now(UTC),
            "user": user,
            "purpose": purpose,
            "action": action,
            "sql": sql,
            "tables": list(tables),
            "rows": int(rows),
            "seconds": round(float(seconds), 3),
            "outcome": outcome,
            "reason": None if reason is None else " ".join(reason.split()),
            "run_id": run_id,
            "task": task,
            "seq": seq,
            "prev_hash": prev_hash,
        }
        row["row_hash"] = chain_hash(prev_hash, row)
        frame = pl.from_arrow(pa.Table.from_pylist([row], schema=AUDIT_SCHEMA))
        assert isinstance(frame, pl.DataFrame)
        write_commit(
            path,
            frame.to_arrow(),
            mode="append",
            metadata={
                "run_id": run_id or audit_id,
                HEAD_SEQ: str(seq),
                HEAD_HASH: str(row["row_hash"]),
            },
        )
    return audit_id


def chain_head(path: StoragePath) -> tuple[int, str] | None:
    """`(seq, row_hash)` of the newest chained row, or None when the chain has not begun.

    The newest commit names it when an audit made that commit (the usual case: one log entry
    read); otherwise (a legacy table, or a rewrite) the `seq` and `row_hash` columns are read.
    """
    if not DeltaTable.is_deltatable(str(path)):
        return None
    table = DeltaTable(str(path))
    latest = table.history(1)
    newest = latest[0] if latest else {}
    if newest.get("operation") == "WRITE" and HEAD_SEQ in newest and HEAD_HASH in newest:
        return int(newest[HEAD_SEQ]), str(newest[HEAD_HASH])
    if "seq" not in {field.name for field in table.schema().fields}:
        return None
    chained = pl.from_arrow(table.to_pyarrow_table(columns=["seq", "row_hash"]))
    assert isinstance(chained, pl.DataFrame)
    chained = chained.drop_nulls("seq")
    if chained.is_empty():
        return None
    seq, row_hash = chained.sort("seq").row(-1)
    return int(seq), str(row_hash)
