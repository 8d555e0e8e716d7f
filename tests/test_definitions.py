"""The deployed definitions: pure to import, automated end to end, deliveries as partitions."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from orchestration.automation import WAREHOUSE_POOL
from orchestration.build import build_definitions
from orchestration.defs.governance.audit_report import KEY as AUDIT_REPORT
from orchestration.defs.governance.audit_report import MONTHLY
from orchestration.defs.ingest.factory import (
    CHECK_ACCEPTED,
    build_ingest_defs,
    deliveries,
    ingestion_asset,
)
from orchestration.resources import LakehouseResource
from tests.conftest import deliver, electoral_csv
from tests.test_catalogue import EXPECTED
from transforms.catalogue import Dataset, load_catalogue
from transforms.config import PROJECT_ROOT, Environment
from transforms.contract import SILVER_TABLES
from transforms.delta_io import read_table

EXPECTED_KEYS = (
    {f"bronze/{name}" for name in EXPECTED}
    | {f"dbt/staging/stg_{name}" for name in EXPECTED}
    | {"dbt/intermediate/int_records__unioned", "dbt/intermediate/int_person_records__normalised"}
    | {f"dbt/silver/{table}" for table in {*SILVER_TABLES, "normalisation_invalid_counts"}}
    | {f"silver/{table}" for table in SILVER_TABLES}
    | {"ops/normalisation_report", "ops/er_evaluations", "ops/entity_id_changes"}
    | {"models/entity_resolution", "reports/er_dashboards", "reports/data_docs"}
    | {"reports/audit_report"}
    | {"cuts/rocu_north", "cuts/rocu_south"}
    | {
        f"gold/{table}"
        for table in (
            "entities",
            "entity_records",
            "entity_links",
            "entity_evidence",
            "generic_values",
        )
    }
)
# Steps that open the DuckDB warehouse (one process per file) and so hold its pool.
WAREHOUSE_WRITERS = {
    "dbt_silver",
    "publish_silver",
    "resolve_entities",
    "ops__normalisation_report",
}


def test_definitions_load_with_the_expected_asset_keys(env: Environment) -> None:
    defs = build_definitions(env)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == EXPECTED_KEYS
    catalogue = load_catalogue(env.catalogue_dir)
    for name, dataset in catalogue.items():
        node = graph.get(dg.AssetKey(["bronze", name]))
        assert node.group_name == f"bronze_{dataset.kind}"
        assert node.owners == [dataset.owner]
        assert node.tags["classification"] == dataset.classification
        assert dataset.title in (node.description or "")
        assert node.partitions_def == deliveries(dataset)  # one partition per delivery
    assert {s.name for s in defs.schedules or []} == {"retention_daily"}
    monthly = graph.get(AUDIT_REPORT).automation_condition
    assert monthly is not None and MONTHLY in str(monthly.get_label())
    assert {s.name for s in defs.sensors or []} == {"landing_sensor", "lakehouse_automation"}


def test_everything_downstream_of_bronze_is_automated_and_writers_hold_the_pool(
    env: Environment,
) -> None:
    graph = build_definitions(env).resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] == "bronze":
            assert node.automation_condition is None, key  # the landing sensor starts these
            continue
        condition = node.automation_condition
        assert condition is not None, key
        if key.path[0] == "cuts" or key == AUDIT_REPORT:  # on their cron
            assert "after upstream runs finish" in str(condition.get_label()), key
        else:
            assert "no blocking check upstream failed" in str(condition.get_label()), key
    pools = {
        graph.get(k).assets_def.node_def.name: graph.get(k).assets_def.node_def.pool
        for k in graph.get_all_asset_keys()
    }
    assert {name for name, pool in pools.items() if pool == WAREHOUSE_POOL} == WAREHOUSE_WRITERS


def test_each_refresh_cron_gives_a_freshness_policy(
    env: Environment, catalogue: dict[str, Dataset]
) -> None:
    graph = build_definitions(env).resolve_asset_graph()
    for name, dataset in catalogue.items():
        policy = graph.get(dg.AssetKey(["bronze", name])).freshness_policy
        if dataset.refresh == "manual":
            assert policy is None, name
            continue
        assert isinstance(policy, dg.FreshnessPolicy)
        assert policy.deadline_cron == dataset.refresh and policy.timezone == dataset.timezone
    daily = graph.get(dg.AssetKey(["bronze", "vehicle_keepers"])).freshness_policy
    assert daily.lower_bound_delta == timedelta(days=1)  # type: ignore[union-attr]


def _snapshot(*roots: Path) -> dict[str, tuple[int, float]]:
    """Size and mtime of every file, but those other tests write meanwhile (each dbt build's own
    `target/<invocation>/` folder and dbt's logs)."""
    files: dict[str, tuple[int, float]] = {}
    skip = {".venv", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", "logs"}
    for root in roots:
        for path in root.rglob("*"):
            parts = path.relative_to(root).parts
            invocation = len(parts) > 3 and parts[:2] == ("dbt_project", "target")
            if path.is_file() and not skip & set(parts) and not invocation:
                stat = path.stat()
                files[str(path)] = (stat.st_size, stat.st_mtime)
    return files


def test_importing_the_definitions_changes_no_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    before = _snapshot(PROJECT_ROOT, home)
    done = subprocess.run(
        [sys.executable, "-c", "import orchestration.definitions as d; print(len(d.defs.assets))"],
        env={**os.environ, "LAKEHOUSE_HOME": str(home), "DAGSTER_HOME": str(tmp_path / "dg")},
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _snapshot(PROJECT_ROOT, home) == before
    assert not any(home.iterdir()) and not (tmp_path / "dg").exists()


def _ingest(env: Environment, dataset: Dataset, delivery_id: str) -> dg.ExecuteInProcessResult:
    """One delivery's run of its bronze partition, as the landing sensor requests it."""
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(deliveries(dataset).name, [delivery_id])
    return dg.materialize(
        [ingestion_asset(dataset)],
        resources={
            "lakehouse": LakehouseResource(home=str(env.home), catalogue_dir=str(env.catalogue_dir))
        },
        instance=instance,
        partition_key=delivery_id,
        raise_on_error=False,
    )


def test_a_delivery_partition_ingests_and_reports(
    env: Environment, catalogue: dict[str, Dataset]
) -> None:
    deliver(env, "electoral_roll", "2026-10-05", {"roll.csv": electoral_csv()})
    result = _ingest(env, catalogue["electoral_roll"], "2026-10-05")
    assert result.success
    [materialisation] = result.asset_materializations_for_node("ingest_electoral_roll")
    assert materialisation.partition == "2026-10-05"
    assert materialisation.metadata["rows_ingested"].value == 3
    assert read_table(env, "bronze.electoral_roll").height == 3
    again = _ingest(env, catalogue["electoral_roll"], "2026-10-05")  # a re-run of the partition
    assert again.success and not again.asset_materializations_for_node("ingest_electoral_roll")
    checks = {e.check_name: e.passed for e in again.get_asset_check_evaluations()}
    assert checks[CHECK_ACCEPTED] and checks["gx_blocking"]
    assert read_table(env, "bronze.electoral_roll").height == 3  # nothing doubled


def test_a_rejected_delivery_is_a_failed_check_and_no_materialisation(
    env: Environment, catalogue: dict[str, Dataset]
) -> None:
    deliver(env, "telephone_directory", "2026-10-05", {"t.csv": b""})
    result = _ingest(env, catalogue["telephone_directory"], "2026-10-05")
    assert result.success
    assert not result.asset_materializations_for_node("ingest_telephone_directory")
    [accepted] = [e for e in result.get_asset_check_evaluations() if e.check_name == CHECK_ACCEPTED]
    assert not accepted.passed and accepted.metadata["status"].value == "rejected"


def test_expired_authorisation_fails_the_delivery_and_reads_nothing(
    env: Environment, catalogue: dict[str, Dataset]
) -> None:
    auth = catalogue["telephone_directory"].authorisation
    assert auth is not None
    expired = catalogue["telephone_directory"].model_copy(
        update={"authorisation": auth.model_copy(update={"expires_on": date(2025, 12, 31)})}
    )
    deliver(env, "telephone_directory", "2026-10-05", {"t.csv": b"x"})
    result = _ingest(env, expired, "2026-10-05")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.message  # type: ignore[union-attr]
    assert (
        "telephone_directory" in message and auth.reference in message and "2025-12-31" in message
    )
    assert (env.landing / "telephone_directory" / "2026-10-05").exists()  # not read, not moved


def test_landing_sensor_adds_each_delivery_as_a_partition(
    env: Environment, catalogue: dict[str, Dataset]
) -> None:
    deliver(env, "electoral_roll", "2026-10-05", {"roll.csv": electoral_csv()})
    deliver(env, "electoral_roll", "2026-11-05", {"roll.csv": electoral_csv()})
    sensor = build_ingest_defs(catalogue).sensors[0]  # type: ignore[index]
    resource = LakehouseResource(home=str(env.home), catalogue_dir=str(env.catalogue_dir))
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance, resources={"lakehouse": resource})
    result = sensor(context)  # type: ignore[operator]
    assert isinstance(result, dg.SensorResult)
    [added] = result.dynamic_partitions_requests or []
    assert added.partitions_def_name == "electoral_roll_deliveries"
    assert list(added.partition_keys) == ["2026-10-05", "2026-11-05"]
    requests = result.run_requests or []
    assert [(r.partition_key, r.run_key) for r in requests] == [
        ("2026-10-05", "electoral_roll:2026-10-05"),
        ("2026-11-05", "electoral_roll:2026-11-05"),
    ]
    assert all(r.asset_selection == [dg.AssetKey(["bronze", "electoral_roll"])] for r in requests)


def test_every_asset_has_upstream_lineage_except_ingestion_roots(env: Environment) -> None:
    graph = build_definitions(env).resolve_asset_graph()
    roots = {
        key.to_user_string() for key in graph.get_all_asset_keys() if not graph.get(key).parent_keys
    }
    assert roots == {f"bronze/{name}" for name in EXPECTED}
