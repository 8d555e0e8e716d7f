"""Incremental silver (issue 18): a run normalises only the deliveries silver does not hold,
merges the change into Delta, and gives the tables a rebuild from scratch gives.

The deployed graph runs for real (ingest, dbt, publication) on three dated deliveries of every
dataset (`cut` ones replacing their predecessor, `feed` ones adding and changing records) and a
destruction between them, under a small DuckDB memory limit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from orchestration.cli.app import REBUILD_SILVER
from orchestration.runner import definitions_for, run_assets
from tests.conftest import CATALOGUE
from transforms.catalogue import load_catalogue
from transforms.config import Environment, get_environment
from transforms.contract import SILVER_TABLES
from transforms.delta_io import history, read_table
from transforms.generate import generate_catalogue
from transforms.governance.destruction import destroy
from transforms.quality.lineage import silver_to_bronze
from transforms.silver_plan import SilverPlan, plan_build

pytestmark = pytest.mark.slow

DELIVERIES = ("2026-10-05", "2026-10-12", "2026-10-19")
HELD_BACK = "2026-10-26"  # a fourth delivery, landed by one test only
UP_TO_SILVER = f'key:"bronze/*" or {REBUILD_SILVER}'
FULL_REFRESH = {"config": {"full_refresh": True}}


def land(source: Path, env: Environment, delivery: str) -> None:
    for folder in sorted(source.glob(f"*/{delivery}")):
        shutil.copytree(folder, env.landing / folder.parent.name / delivery)


def run(env: Environment, selection: str, run_config: dict[str, object] | None = None) -> None:
    report = run_assets(
        env,
        selection,
        defs=definitions_for(env),
        instance=dg.DagsterInstance.ephemeral(),
        run_config=run_config,
    )
    assert report.success, report.failures
    assert not report.blocked, report.blocked


def silver(env: Environment) -> dict[str, pl.DataFrame]:
    tables = {}
    for table in SILVER_TABLES:
        frame = read_table(env, f"silver.{table}")
        tables[table] = frame.sort(frame.columns)
    return tables


PLANS: dict[str, SilverPlan] = {}


@pytest.fixture(scope="module")
def incremental(tmp_path_factory: pytest.TempPathFactory) -> Environment:
    """Three deliveries landed one run at a time, with a destruction after the second."""
    root = tmp_path_factory.mktemp("incremental")
    generate_catalogue(
        CATALOGUE, root / "generated", root / "truth", people=300, seed=11, deliveries=4
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKEHOUSE_HOME", str(root / "lakehouse"))
        patch.setenv("LAKEHOUSE_CATALOGUE", str(CATALOGUE))
        patch.setenv("LAKEHOUSE_MEMORY_LIMIT", "200MB")  # the runs complete under a small limit
        env = get_environment()
        catalogue = load_catalogue(env.catalogue_dir)
        land(root / "generated", env, DELIVERIES[0])
        run(env, UP_TO_SILVER)
        land(root / "generated", env, DELIVERIES[1])
        run(env, UP_TO_SILVER)
        persons = read_table(env, "silver.person_records")
        for dataset in ("subscriber_records", "electoral_roll"):  # a feed and a cut
            keys = persons.filter(pl.col("source_dataset") == dataset)["record_key"].head(2)
            destroy(env, dataset, reason="test", user="steward", record_keys=keys.to_list())
        land(root / "generated", env, DELIVERIES[2])
        run(env, 'key:"bronze/*"')  # ingested only: what the next build will read
        PLANS["last"] = plan_build(env, catalogue)
        run(env, UP_TO_SILVER)
    return env


def test_a_run_reads_only_the_deliveries_silver_does_not_hold(
    incremental: Environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = PLANS["last"]
    assert planned.reads is not None
    assert {d: ids for d, ids in planned.reads.items() if ids} == {
        d: [DELIVERIES[2]] for d in load_catalogue(incremental.catalogue_dir)
    }
    cuts = sorted(
        d for d, e in load_catalogue(incremental.catalogue_dir).items() if e.access == "cut"
    )
    assert planned.replaced == cuts
    monkeypatch.setenv("LAKEHOUSE_HOME", str(incremental.home))
    after = plan_build(get_environment(), load_catalogue(incremental.catalogue_dir))
    assert after.reads is not None and not any(after.reads.values())


def test_each_run_is_one_silver_version_and_lineage_holds_over_whole_tables(
    incremental: Environment,
) -> None:
    for table in SILVER_TABLES:  # the last run: one merge (the destruction cleaned older history)
        newest, *older = history(incremental.table_path(f"silver.{table}"))
        assert newest["operation"] == "MERGE", (table, newest)
        assert all(h["run_id"] != newest["run_id"] for h in older), table
    for table in ("person_records", "comms_events"):
        lineage = silver_to_bronze(incremental, read_table(incremental, f"silver.{table}"))
        assert lineage.passed and lineage.checked > 0, (table, lineage.orphans[:5])


def private_copy(source: Environment, target: Path, monkeypatch: pytest.MonkeyPatch) -> Environment:
    shutil.copytree(source.home, target)
    monkeypatch.setenv("LAKEHOUSE_HOME", str(target))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(CATALOGUE))
    return get_environment()


def test_a_rebuild_from_scratch_gives_the_same_tables(
    incremental: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = private_copy(incremental, tmp_path / "lake", monkeypatch)
    before = silver(env)
    run(env, REBUILD_SILVER, {"ops": {"dbt_silver": FULL_REFRESH, "publish_silver": FULL_REFRESH}})
    rebuilt = silver(env)
    for table in SILVER_TABLES:
        assert rebuilt[table].equals(before[table]), table
    for table in SILVER_TABLES:  # one new version each, written whole
        assert history(env.table_path(f"silver.{table}"))[0]["operation"] == "WRITE"


def plant(env: Environment, condition: str) -> None:
    """Change held normalised rows behind silver's back: a run that re-normalises them undoes it."""
    con = duckdb.connect(str(env.warehouse))
    try:
        con.execute(
            "update intermediate.int_records__unioned set given_name = 'SENTINEL' "
            f"where {condition}"
        )
    finally:
        con.close()


def test_held_rows_are_not_normalised_again_and_a_new_cut_carries_unchanged_records(
    incremental: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = private_copy(incremental, tmp_path / "lake", monkeypatch)
    feed = read_table(env, "silver.person_records").filter(
        pl.col("source_dataset") == "subscriber_records"
    )["record_key"][0]
    plant(env, f"record_key = '{feed}' or source_dataset = 'electoral_roll'")
    land(incremental.home.parent / "generated", env, HELD_BACK)
    run(env, UP_TO_SILVER)
    persons = read_table(env, "silver.person_records")
    assert persons.filter(pl.col("record_key") == feed)["given_name"].to_list() == ["SENTINEL"]
    roll = persons.filter(pl.col("source_dataset") == "electoral_roll")
    carried = roll.filter(pl.col("given_name") == "SENTINEL")
    assert set(roll["source_delivery_id"]) == {HELD_BACK}  # every record points at the new cut
    assert 0.8 * roll.height <= carried.height < roll.height  # unchanged ones were not re-read
    lineage = silver_to_bronze(env, roll)
    assert lineage.passed, lineage.orphans[:5]
