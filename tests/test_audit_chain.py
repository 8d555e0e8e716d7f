"""`ops.audit_log` is hash-chained: every edit, deletion or insertion shows, and says where."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import polars as pl
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from typer.testing import CliRunner

from orchestration.cli import app
from transforms.config import PROJECT_ROOT, Environment
from transforms.delta_io import read_table, write_commit
from transforms.governance.audit import AUDIT_LOG, GENESIS, audit, chain_head
from transforms.governance.audit_chain import verify_audit_log, verify_chain


def audit_once(env: Environment, n: int, **extra: object) -> str:
    return audit(
        env,
        user="analyst",
        purpose=f"purpose {n}",
        action="sql",
        sql=f"select {n}",
        tables=[],
        rows=0,
        seconds=0.0,
        outcome="allowed",
        **extra,  # type: ignore[arg-type]
    )


def chained_log(env: Environment, n: int) -> pl.DataFrame:
    for i in range(n):
        audit_once(env, i)
    return read_table(env, AUDIT_LOG)


def tamper(env: Environment, frame: pl.DataFrame) -> None:
    """What someone with file access does: rewrite the table with the rows they want."""
    write_deltalake(str(env.table_path(AUDIT_LOG)), frame.to_arrow(), mode="overwrite")


def test_audits_form_a_gapless_valid_chain(env: Environment) -> None:
    audit_once(env, 0, task="OP-1")
    log = chained_log(env, 4).sort("seq")
    assert log["seq"].to_list() == [0, 1, 2, 3, 4]
    assert log["prev_hash"][0] == GENESIS
    assert log["prev_hash"][1:].to_list() == log["row_hash"][:-1].to_list()
    assert log.filter(pl.col("seq") == 0)["task"].item() == "OP-1"
    report = verify_audit_log(env)
    assert report.ok and report.rows == 5 and report.first_break is None
    assert report.verdict == "audit chain intact: 5 chained rows, seq 0-4"


def test_the_canonical_form_can_be_recomputed_independently(env: Environment) -> None:
    """What the audit module's docstring tells an auditor, done by hand."""
    audit(
        env,
        user="analyst",
        purpose="Ünïcode purpose",
        action="search",
        sql=None,
        tables=["gold.entities", "silver.person_records"],
        rows=3,
        seconds=1.23456,
        outcome="refused",
        reason="no  clearance",
        task="OP-9",
    )
    row = read_table(env, AUDIT_LOG).row(0, named=True)
    fields = {k: v for k, v in row.items() if k not in ("prev_hash", "row_hash")}
    fields["at"] = row["at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert (
        '"seconds":1.235' in text and '"tables":["gold.entities","silver.person_records"]' in text
    )
    assert hashlib.sha256((GENESIS + text).encode()).hexdigest() == row["row_hash"]


def test_an_edited_row_is_flagged_at_its_seq(env: Environment) -> None:
    log = chained_log(env, 6)
    edited = log.with_columns(
        pl.when(pl.col("seq") == 3)
        .then(pl.lit("a harmless purpose"))
        .otherwise(pl.col("purpose"))
        .alias("purpose")
    )
    tamper(env, edited)
    report = verify_audit_log(env)
    assert not report.ok
    assert report.first_break == 3
    assert [(b.seq, b.kind) for b in report.breaks] == [(3, "edited")]  # no cascade
    assert report.verdict == "chain breaks at seq 3: row edited (row_hash differs)"


def test_an_edit_with_the_hash_recomputed_breaks_the_next_link(env: Environment) -> None:
    from transforms.governance.audit import chain_hash

    log = chained_log(env, 5).sort("seq")
    rows = log.to_dicts()
    rows[2]["purpose"] = "rewritten"
    rows[2]["row_hash"] = chain_hash(rows[2]["prev_hash"], rows[2])
    tamper(env, pl.DataFrame(rows, schema=log.schema))
    report = verify_audit_log(env)
    assert (report.first_break, report.breaks[0].kind) == (3, "deleted")
    assert "prev_hash does not match seq 2" in report.verdict


@pytest.mark.parametrize(("deleted", "kind"), [(0, "deleted"), (2, "deleted"), (4, "deleted")])
def test_a_deleted_row_is_flagged_where_it_was(env: Environment, deleted: int, kind: str) -> None:
    log = chained_log(env, 5)
    tamper(env, log.filter(pl.col("seq") != deleted))
    report = verify_audit_log(env)
    assert not report.ok
    assert [(b.seq, b.kind) for b in report.breaks] == [(deleted, kind)]
    assert report.verdict.startswith(f"chain breaks at seq {deleted}: row deleted (seq {deleted}")


def test_the_last_row_deleted_shows_only_against_its_commit(env: Environment) -> None:
    """A chain alone cannot see its tail cut off; the audit commit that wrote the row can."""
    log = chained_log(env, 4)
    truncated = log.filter(pl.col("seq") < 3)
    assert verify_chain(truncated).ok
    tamper(env, truncated)
    report = verify_audit_log(env)
    assert [(b.seq, b.kind) for b in report.breaks] == [(3, "deleted")]


def test_a_copied_row_and_a_reordered_row_are_flagged(env: Environment) -> None:
    log = chained_log(env, 5)
    copied = pl.concat([log, log.filter(pl.col("seq") == 1).with_columns(audit_id=pl.lit("x"))])
    report = verify_chain(copied)
    assert [(b.seq, b.kind) for b in report.breaks] == [(1, "inserted")]
    swapped = log.with_columns(
        seq=pl.when(pl.col("seq") == 1)
        .then(2)
        .when(pl.col("seq") == 2)
        .then(1)
        .otherwise(pl.col("seq"))
    )
    kinds = {b.kind for b in verify_chain(swapped).breaks}
    assert "reordered" in kinds and "edited" in kinds


def test_the_audit_after_a_rewrite_continues_from_the_stored_head(env: Environment) -> None:
    log = chained_log(env, 3)
    tamper(env, log)  # the newest commit no longer names the head: it is read from the table
    head = chain_head(env.table_path(AUDIT_LOG))
    assert head == (2, log.filter(pl.col("seq") == 2)["row_hash"].item())
    audit_once(env, 3)
    assert verify_audit_log(env).ok


def test_concurrent_audits_in_threads_keep_one_gapless_chain(env: Environment) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda n: audit_once(env, n), range(18)))
    log = read_table(env, AUDIT_LOG)
    assert sorted(log["seq"].to_list()) == list(range(18))
    report = verify_audit_log(env)
    assert report.ok, report.verdict


def test_concurrent_audits_in_processes_keep_one_gapless_chain(env: Environment) -> None:
    script = (
        "from transforms.config import get_environment\n"
        "from transforms.governance.audit import audit\n"
        "for n in range(3):\n"
        "    audit(get_environment(), user='analyst', purpose=f'p{n}', action='sql', sql=None,\n"
        "          tables=[], rows=0, seconds=0.0, outcome='allowed')\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=os.environ.copy())
        for _ in range(3)
    ]
    assert all(proc.wait(timeout=120) == 0 for proc in procs)
    log = read_table(env, AUDIT_LOG)
    assert sorted(log["seq"].to_list()) == list(range(9))
    assert verify_audit_log(env).ok


LEGACY_SCHEMA = pa.schema(
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


def test_legacy_rows_before_the_chain_are_counted_not_broken(env: Environment) -> None:
    then = datetime.now(UTC) - timedelta(days=1)
    legacy = [
        {
            "audit_id": f"old{i}",
            "at": then + timedelta(seconds=i),
            "user": "analyst",
            "purpose": "before the chain",
            "action": "sql",
            "sql": "select 1",
            "tables": [],
            "rows": 1,
            "seconds": 0.5,
            "outcome": "allowed",
            "reason": None,
            "run_id": None,
        }
        for i in range(3)
    ]
    path = env.table_path(AUDIT_LOG)
    write_commit(
        path, pa.Table.from_pylist(legacy, schema=LEGACY_SCHEMA), mode="append", metadata={}
    )
    assert (
        verify_audit_log(env).verdict
        == "audit log has no chained rows (3 rows); unchained legacy rows: 3"
    )
    audit_once(env, 0, task="OP-2")
    audit_once(env, 1)
    log = read_table(env, AUDIT_LOG)
    assert {"seq", "prev_hash", "row_hash", "task"} <= set(log.columns)
    assert log.filter(pl.col("seq") == 0)["prev_hash"].item() == GENESIS
    report = verify_audit_log(env)
    assert report.ok, report.verdict
    assert (report.rows, report.chained, report.legacy) == (5, 2, 3)
    assert report.verdict.endswith("unchained legacy rows: 3")
    # a row without chain fields slipped in after the chain began is not legacy
    forged = pl.DataFrame([{**legacy[0], "audit_id": "forged", "at": datetime.now(UTC)}])
    tamper(env, pl.concat([log, forged], how="diagonal_relaxed"))
    assert [b.kind for b in verify_audit_log(env).breaks] == ["inserted"]


def test_audit_verify_prints_the_verdict_and_fails_on_a_break(env: Environment) -> None:
    log = chained_log(env, 3)
    intact = CliRunner().invoke(app, ["audit-verify"])
    assert intact.exit_code == 0, intact.output
    assert "audit chain intact: 3 chained rows" in intact.output
    tamper(env, log.with_columns(rows=pl.lit(99, pl.Int64)))
    broken = CliRunner().invoke(app, ["audit-verify"])
    assert broken.exit_code != 0
    assert "chain breaks at seq 0: row edited (row_hash differs); 3 breaks in all" in broken.output


def test_a_fresh_lakehouse_verifies_as_empty(env: Environment) -> None:
    assert DeltaTable.is_deltatable(str(env.table_path(AUDIT_LOG))) is False
    report = verify_audit_log(env)
    assert report.ok and report.rows == 0
