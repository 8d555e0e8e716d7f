"""The Dagster definitions load, and ingestion runs as real materialisations."""

from __future__ import annotations

from datetime import date

import dagster as dg

from orchestration.defs.ingest.factory import CHECK_ACCEPTED, build_ingest_defs
from orchestration.resources import LakehouseResource
from tests.conftest import deliver, electoral_csv
from tests.test_catalogue import EXPECTED
from transforms.catalogue import Dataset, load_catalogue
from transforms.config import Environment
from transforms.delta_io import read_table

SILVER = {
    "person_records",
    "addresses",
    "comms_identifiers",
    "document_identifiers",
    "comms_events",
}
EXPECTED_KEYS = (
    {f"bronze/{name}" for name in EXPECTED}
    | {f"dbt/staging/stg_{name}" for name in EXPECTED}
    | {"dbt/intermediate/int_records__unioned", "dbt/intermediate/int_person_records__normalised"}
    | {f"dbt/silver/{table}" for table in SILVER | {"normalisation_invalid_counts"}}
    | {f"silver/{table}" for table in SILVER}
    | {"ops/normalisation_report", "ops/er_evaluations", "ops/entity_id_changes"}
    | {"models/entity_resolution", "reports/er_dashboards", "reports/data_docs"}
    | {"cuts/rocu_north", "cuts/rocu_south"}
    | {
        f"gold/{table}"
        for table in ("entities", "entity_records", "entity_links", "entity_evidence")
    }
)


def test_definitions_load_with_the_expected_asset_keys() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == EXPECTED_KEYS
    catalogue = load_catalogue(LakehouseResource().env().catalogue_dir)
    for name, dataset in catalogue.items():
        node = graph.get(dg.AssetKey(["bronze", name]))
        assert node.group_name == f"bronze_{dataset.kind}"
        assert node.owners == [dataset.owner]
        assert node.tags["classification"] == dataset.classification
        assert dataset.title in (node.description or "")
    schedules = {s.name for s in defs.schedules or []}
    assert schedules == {f"{n}_refresh" for n, d in catalogue.items() if d.refresh != "manual"} | {
        "retention_daily",
        "rocu_north_cut",
        "rocu_south_cut",
    }
    assert {s.name for s in defs.sensors or []} == {"landing_sensor"}


def _materialize(env: Environment, catalogue: dict[str, Dataset]) -> dg.ExecuteInProcessResult:
    defs = build_ingest_defs(catalogue)
    return dg.materialize(
        list(defs.assets or []),
        resources={
            "lakehouse": LakehouseResource(home=str(env.home), catalogue_dir=str(env.catalogue_dir))
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_materialise_ingests_and_reports(env: Environment, catalogue: dict[str, Dataset]) -> None:
    deliver(env, "electoral_roll", "2026-10-05", {"roll.csv": electoral_csv()})
    deliver(env, "telephone_directory", "2026-10-05", {"t.csv": b""})
    result = _materialize(env, {k: catalogue[k] for k in ("electoral_roll", "telephone_directory")})
    assert result.success
    meta = result.asset_materializations_for_node("bronze__electoral_roll")[0].metadata
    assert meta["deliveries_ingested"].value == 1 and meta["rows_ingested"].value == 3
    checks = {
        e.asset_key.path[-1]: e.passed
        for e in result.get_asset_check_evaluations()
        if e.check_name == CHECK_ACCEPTED
    }
    assert checks == {"electoral_roll": True, "telephone_directory": False}
    assert read_table(env, "bronze.electoral_roll").height == 3


def test_expired_authorisation_fails_only_that_asset(
    env: Environment, catalogue: dict[str, Dataset]
) -> None:
    auth = catalogue["telephone_directory"].authorisation
    assert auth is not None
    expired = catalogue["telephone_directory"].model_copy(
        update={"authorisation": auth.model_copy(update={"expires_on": date(2025, 12, 31)})}
    )
    deliver(env, "electoral_roll", "2026-10-05", {"roll.csv": electoral_csv()})
    deliver(env, "telephone_directory", "2026-10-05", {"t.csv": b"x"})
    result = _materialize(
        env, {"electoral_roll": catalogue["electoral_roll"], "telephone_directory": expired}
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.message  # type: ignore[union-attr]
    assert (
        "telephone_directory" in message and auth.reference in message and "2025-12-31" in message
    )
    assert read_table(env, "bronze.electoral_roll").height == 3
    assert (env.landing / "telephone_directory" / "2026-10-05").exists()  # not read, not moved


def test_landing_sensor_requests_pending_datasets(
    env: Environment, catalogue: dict[str, Dataset]
) -> None:
    deliver(env, "electoral_roll", "2026-10-05", {"roll.csv": electoral_csv()})
    sensor = build_ingest_defs(catalogue).sensors[0]  # type: ignore[index]
    resource = LakehouseResource(home=str(env.home), catalogue_dir=str(env.catalogue_dir))
    context = dg.build_sensor_context(resources={"lakehouse": resource})
    requests = list(sensor(context))  # type: ignore[operator]
    assert [r.asset_selection for r in requests] == [[dg.AssetKey(["bronze", "electoral_roll"])]]
    assert requests[0].run_key == "electoral_roll:2026-10-05"


def test_manual_refresh_has_no_schedule(catalogue: dict[str, Dataset]) -> None:
    defs = build_ingest_defs({"rocu_nominals": catalogue["rocu_nominals"]})
    assert catalogue["rocu_nominals"].refresh == "manual"
    assert not list(defs.schedules or [])


def test_every_asset_has_upstream_lineage_except_ingestion_roots() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    roots = {
        key.to_user_string() for key in graph.get_all_asset_keys() if not graph.get(key).parent_keys
    }
    assert roots == {f"bronze/{name}" for name in EXPECTED}
