"""The gold publish protocol: one resolution run reaches analysts whole or not at all.

1. Audit the `AUDITED_GOLD` tables in order (write-audit-publish, `transforms.quality.wap`) by
   their change: only the rows of keys that differ from the published table are validated and
   merged (`audit_change`, `transforms/publish_changes.py`), keys and counts are checked in SQL
   over the whole table; `entity_records` also has its changed rows traced to
   `silver.person_records`.
2. Stop at the first table that fails a blocking check: the tables after it are not audited and
   the last good gold stays as it is (tables before it were published by their own audit).
3. Only when every audited table was published (`complete`) are `gold.entity_evidence`,
   `gold.generic_values`, `ops.er_state` and `ops.er_features` published (merged by change
   too) and the run's entity-id changes appended to `ops.entity_id_changes`.
4. Every check result of the tables audited is recorded in `ops.quality_results`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
from deltalake import DeltaTable

from transforms.config import Environment
from transforms.contract import AUDITED_GOLD, TABLE_KEYS
from transforms.delta_io import read_where_in
from transforms.publish import append_frame
from transforms.publish_changes import candidate_tables, mirror_to_warehouse, publish_change
from transforms.quality.lineage import gold_to_silver
from transforms.quality.results import record_results
from transforms.quality.wap import Audit, audit_change
from transforms.resolve.feature_store import publish_features
from transforms.resolve.pipeline import Resolution
from transforms.storage import StoragePath

CHANGES_TABLE = "ops.entity_id_changes"
EVIDENCE_KEY = "record_key_l"  # gold.entity_evidence is merged by the left record of each pair
GENERIC_KEY = "value"  # gold.generic_values is merged by value (a value's rows of every kind)
NOT_AUDITED = "not audited: an earlier gold table failed its audit"


@dataclass(frozen=True)
class GoldPublication:
    """What one run published: an audit per `AUDITED_GOLD` table, and whether gold is complete."""

    audits: dict[str, Audit]  # every AUDITED_GOLD table; `not_audited` after the first failure
    complete: bool  # every audited table published, so evidence, state and changes were too
    changes: pl.DataFrame  # the run's entity-id changes, stamped with run_id and model_version
    changes_version: int  # the ops.entity_id_changes version written, -1 when none was
    rows: dict[str, int]  # rows of each gold table the run built

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
    """Audit and publish one resolution run's gold tables (the protocol of the module docstring).

    Takes the frames of `result.tables` (`candidate_tables`): afterwards the run's gold is what
    was published, and `GoldPublication.rows` counts what was built."""
    persons = env.table_path("silver.person_records")
    audits: dict[str, Audit] = {}
    rows = {name: frame.height for name, frame in result.tables.items()}
    con = candidate_tables(env, "gold", result.tables)
    try:
        for table in AUDITED_GOLD:
            lineage = (
                (lambda frame: gold_to_silver(frame, _persons_of(persons, frame)))
                if table == "entity_records"
                else None
            )
            audit = audit_change(env, con, "gold", table, run_id, lineage=lineage)
            audits[table] = audit
            if not audit.published:
                break  # the last good gold stays as it is; nothing further is published
            mirror_to_warehouse(
                env,
                con,
                "gold",
                table,
                TABLE_KEYS[table],
                audit.merged_keys,
                audit.previous_version,
                audit.published_version,  # type: ignore[arg-type]
            )
        record_results(env, [c for a in audits.values() for c in a.checks], run_id)
        complete = len(audits) == len(AUDITED_GOLD) and all(a.published for a in audits.values())
        changes = stamped_changes(result, run_id)
        version = -1
        if complete:
            publish_change(env, con, "gold", "entity_evidence", EVIDENCE_KEY, run_id)
            publish_change(env, con, "gold", "generic_values", GENERIC_KEY, run_id)
            if result.features is not None:  # before the state: see publish_features
                publish_features(
                    env, result.features, result.features_changed, run_id, result.input_hashes
                )
            state = candidate_tables(env, "ops", {"er_state": result.state})
            try:
                publish_change(env, state, "ops", "er_state", "record_key", run_id, warehouse=False)
            finally:
                state.close()
            version = append_frame(env, CHANGES_TABLE, changes, run_id=run_id)
    finally:
        con.close()
    for table in AUDITED_GOLD:
        audits.setdefault(table, not_audited(table))
    return GoldPublication(audits, complete, changes, version, rows)


def _persons_of(path: StoragePath, records: pl.DataFrame) -> pl.DataFrame:
    """The silver person records `records` name (read by a pushed-down filter)."""
    keys = sorted(set(records["record_key"].to_list()))
    return pl.from_arrow(read_where_in(DeltaTable(str(path)), ["record_key"], "record_key", keys))  # type: ignore[return-value]
