"""The gold publish protocol: one resolution run reaches analysts whole or not at all.

1. Audit the `AUDITED_GOLD` tables in order (write-audit-publish, `transforms.quality.wap`);
   `entity_records` also has its lineage to `silver.person_records` checked.
2. Stop at the first table that fails a blocking check: the tables after it are not audited and
   the last good gold stays as it is (tables before it were published by their own audit).
3. Only when every audited table was published (`complete`) are `gold.entity_evidence` and
   `ops.er_state` published and the run's entity-id changes appended to `ops.entity_id_changes`.
4. Every check result of the tables audited is recorded in `ops.quality_results`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from transforms.config import Environment
from transforms.contract import AUDITED_GOLD, TABLE_KEYS
from transforms.delta_io import read_table
from transforms.publish import append_frame, publish_frames
from transforms.quality.lineage import gold_to_silver
from transforms.quality.results import record_results
from transforms.quality.suites import load_suite
from transforms.quality.wap import Audit, audit_publish
from transforms.resolve.pipeline import Resolution

CHANGES_TABLE = "ops.entity_id_changes"
NOT_AUDITED = "not audited: an earlier gold table failed its audit"


@dataclass(frozen=True)
class GoldPublication:
    """What one run published: an audit per `AUDITED_GOLD` table, and whether gold is complete."""

    audits: dict[str, Audit]  # every AUDITED_GOLD table; `not_audited` after the first failure
    complete: bool  # every audited table published, so evidence, state and changes were too
    changes: pl.DataFrame  # the run's entity-id changes, stamped with run_id and model_version
    changes_version: int  # the ops.entity_id_changes version written, -1 when none was

    @property
    def change_counts(self) -> dict[str, int]:
        """Rows per kind of change, as `changes_<change>` (asset metadata)."""
        if self.changes.height == 0:
            return {}
        counts = self.changes.group_by("change").len().sort("change")
        return {f"changes_{change}": n for change, n in counts.iter_rows()}


def not_audited(table: str) -> Audit:
    """The audit of a gold table left unaudited because an earlier one failed: blocking, failed."""
    skipped = Audit(f"gold.{table}", -1, False, blocking_failed=["not audited"])
    skipped.checks = [
        {
            "check": NOT_AUDITED,
            "severity": "blocking",
            "passed": False,
            "failing": 0,
            "failing_share": 0.0,
            "sample_keys": [],
        }
    ]
    return skipped


def stamped_changes(result: Resolution, run_id: str) -> pl.DataFrame:
    """The run's `ops.entity_id_changes` rows with run_id, recorded_at and model_version."""
    return result.changes.with_columns(
        pl.lit(run_id).alias("run_id"),
        pl.lit(datetime.now(UTC)).alias("recorded_at"),
        pl.lit(result.model_version).alias("model_version"),
    )


def publish_gold(env: Environment, result: Resolution, run_id: str) -> GoldPublication:
    """Audit and publish one resolution run's gold tables (the protocol of the module docstring)."""
    persons = read_table(env, "silver.person_records", columns=["record_key"])
    audits: dict[str, Audit] = {}
    for table in AUDITED_GOLD:
        frame = result.tables[table]
        audits[table] = audit_publish(
            env,
            "gold",
            table,
            frame,
            load_suite(env.expectations_dir / "gold" / f"{table}.json"),
            run_id,
            key=TABLE_KEYS[table],
            lineage=gold_to_silver(frame, persons) if table == "entity_records" else None,
        )
        if not audits[table].published:
            break  # the last good gold stays as it is; nothing further is published
    record_results(env, [c for a in audits.values() for c in a.checks], run_id)
    complete = len(audits) == len(AUDITED_GOLD) and all(a.published for a in audits.values())
    changes = stamped_changes(result, run_id)
    version = -1
    if complete:
        publish_frames(
            env, "gold", {"entity_evidence": result.tables["entity_evidence"]}, run_id=run_id
        )
        publish_frames(env, "ops", {"er_state": result.state}, run_id=run_id, warehouse=False)
        version = append_frame(env, CHANGES_TABLE, changes, run_id=run_id)
    for table in AUDITED_GOLD:
        audits.setdefault(table, not_audited(table))
    return GoldPublication(audits, complete, changes, version)
