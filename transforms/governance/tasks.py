"""The tasking register (`ops.tasks`): every read of personal data serves an approved, open task.

The inspection found work reaching analysts through a back door instead of the allocation
process. So a bulk search, an SQL query, an explanation or a network question names a task
(`--task REF`), and is refused unless the task is open and its datasets cover everything the
request reads. The register is append-only: opening a task is one row, closing it another with
status `closed`; the latest row of a reference is its state, and the history stays readable for
the audit report.

What a request reads, in datasets: `bronze.<dataset>` is that dataset; a silver or gold table
holds rows derived from every dataset delivered into it (the distinct `source_dataset`s it
holds, or, for tables without that column, those of the silver records they derive from), so a
task that reads it must cover all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from deltalake import DeltaTable

from transforms.catalogue import load_catalogue
from transforms.config import Environment
from transforms.delta_io import read_ledger
from transforms.publish import append_frame

TASKS_TABLE = "ops.tasks"
STATUSES = ("open", "closed")
TASK_SCHEMA = pa.schema(
    [
        ("task_ref", pa.string()),
        ("title", pa.string()),
        ("requesting_team", pa.string()),
        ("approved_by", pa.string()),
        ("approved_on", pa.date32()),
        ("purpose", pa.string()),
        ("datasets", pa.list_(pa.string())),
        ("status", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
        ("recorded_by", pa.string()),  # extension: who recorded the row (audited too)
    ]
)
# Tables whose rows carry the dataset they came from; the rest derive from silver's records.
_SOURCED = {"silver.person_records", "silver.comms_events", "gold.entity_records"}
_ROOTS = ("silver.person_records", "silver.comms_events")


class TaskRefused(ValueError):
    """No task, or one that is unknown, closed or does not cover what the request reads."""


@dataclass(frozen=True)
class Task:
    """A task's current state (its latest row in the register)."""

    ref: str
    title: str
    datasets: tuple[str, ...]
    status: str
    approved_by: str
    purpose: str


def read_register(env: Environment) -> pl.DataFrame:
    """Every row of `ops.tasks`, oldest first (empty, with the schema, before the first)."""
    return read_ledger(env.table_path(TASKS_TABLE), TASK_SCHEMA).sort("recorded_at")


def current_tasks(register: pl.DataFrame) -> pl.DataFrame:
    """One row per task reference: its latest state."""
    return register.sort("recorded_at").group_by("task_ref", maintain_order=True).last()


def _task(row: dict[str, object]) -> Task:
    return Task(
        str(row["task_ref"]),
        str(row["title"]),
        tuple(row["datasets"] or []),  # type: ignore[arg-type]
        str(row["status"]),
        str(row["approved_by"]),
        str(row["purpose"]),
    )


def find_task(env: Environment, ref: str) -> Task | None:
    rows = current_tasks(read_register(env)).filter(pl.col("task_ref") == ref)
    return _task(rows.to_dicts()[0]) if rows.height else None


def _append(env: Environment, row: dict[str, object]) -> dict[str, object]:
    frame = pl.from_arrow(pa.Table.from_pylist([row], schema=TASK_SCHEMA))
    assert isinstance(frame, pl.DataFrame)
    append_frame(env, TASKS_TABLE, frame, run_id=f"task-{row['task_ref']}-{row['status']}")
    return row


def open_task(
    env: Environment,
    ref: str,
    *,
    title: str,
    datasets: Sequence[str],
    approved_by: str,
    purpose: str,
    user: str,
    requesting_team: str | None = None,
    approved_on: date | None = None,
) -> dict[str, object]:
    """Record a new open task (one commit). References are never reused."""
    ref = ref.strip()
    if not ref:
        raise TaskRefused("a task needs a reference")
    for name, value in (("--title", title), ("--approved-by", approved_by), ("--purpose", purpose)):
        if not value.strip():
            raise TaskRefused(f"task {ref}: {name} must not be empty")
    known = load_catalogue(env.catalogue_dir)
    wanted = sorted({d.strip() for d in datasets if d.strip()})
    if not wanted:
        raise TaskRefused(f"task {ref}: --datasets names at least one dataset")
    unknown = [d for d in wanted if d not in known]
    if unknown:
        raise TaskRefused(f"task {ref}: unknown dataset {unknown[0]} (not in the catalogue)")
    if find_task(env, ref) is not None:
        raise TaskRefused(f"task {ref} already exists; task references are not reused")
    return _append(
        env,
        {
            "task_ref": ref,
            "title": " ".join(title.split()),
            "requesting_team": requesting_team,
            "approved_by": approved_by,
            "approved_on": approved_on or datetime.now(UTC).date(),
            "purpose": " ".join(purpose.split()),
            "datasets": wanted,
            "status": "open",
            "recorded_at": datetime.now(UTC),
            "recorded_by": user,
        },
    )


def close_task(env: Environment, ref: str, *, user: str) -> dict[str, object]:
    """Record that a task is closed (one commit): nothing may be read under it any more."""
    rows = current_tasks(read_register(env)).filter(pl.col("task_ref") == ref)
    if rows.height == 0:
        raise TaskRefused(f"unknown task {ref}: not in {TASKS_TABLE}")
    row = rows.to_dicts()[0]
    if row["status"] == "closed":
        raise TaskRefused(f"task {ref} is already closed")
    return _append(
        env, {**row, "status": "closed", "recorded_at": datetime.now(UTC), "recorded_by": user}
    )


def table_datasets(env: Environment, table: str) -> set[str]:
    """The datasets whose rows `<layer>.<table>` holds or derives from."""
    layer, name = table.split(".", 1)
    if layer == "bronze":
        return {name}
    sources = [table] if table in _SOURCED else list(_ROOTS)
    found: set[str] = set()
    for source in sources:
        path = env.table_path(source)
        if not DeltaTable.is_deltatable(str(path)):
            continue
        scan: ds.Dataset = DeltaTable(str(path)).to_pyarrow_dataset()
        column = scan.to_table(columns=["source_dataset"]).column("source_dataset")
        found |= {str(v) for v in pc.unique(column).to_pylist() if v is not None}
    return found


def require_open_task(env: Environment, ref: str | None, tables: Iterable[str]) -> Task:
    """The open task `ref` covering every dataset `tables` read; TaskRefused otherwise."""
    if ref is None or not ref.strip():
        raise TaskRefused("--task REF is required: name an open task (lakehouse task list)")
    task = find_task(env, ref)
    if task is None:
        raise TaskRefused(f"unknown task {ref}: not in the tasking register (lakehouse task list)")
    if task.status != "open":
        raise TaskRefused(f"task {ref} is closed: nothing may be read under it")
    read = set().union(*(table_datasets(env, t) for t in tables)) if tables else set()
    missing = sorted(read - set(task.datasets))
    if missing:
        raise TaskRefused(
            f"task {ref} does not cover {', '.join(missing)}, which this request reads "
            f"(it covers {', '.join(task.datasets)})"
        )
    return task
