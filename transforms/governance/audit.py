"""The one audit writer: every query, search or other governed access appends a row to `ops.audit_log`.

Allowed, refused and failed requests are all recorded, with who asked, why, what they ran or
searched, which tables it touched, how many rows came back and how long it took.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

import polars as pl
import pyarrow as pa

from transforms.config import Environment
from transforms.publish import append_frame

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
    ]
)


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
) -> str:
    """Append one row to `ops.audit_log` (one Delta commit); returns its `audit_id`."""
    if outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of {OUTCOMES}, not {outcome!r}")
    if not action:
        raise ValueError("audit action must name what was done (e.g. 'sql', 'search')")
    audit_id = uuid.uuid4().hex
    row = {
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
    }
    frame = pl.from_arrow(pa.Table.from_pylist([row], schema=AUDIT_SCHEMA))
    assert isinstance(frame, pl.DataFrame)
    append_frame(env, AUDIT_LOG, frame, run_id=run_id or audit_id)
    return audit_id
