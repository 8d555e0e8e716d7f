"""dbt models as Dagster assets (sources mapped onto bronze), and the silver Delta publication."""

import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
import polars as pl
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.dbt_project import dbt_executable
from orchestration.defs.transform.dbt_resource import OfflineDbtCliResource
from orchestration.defs.transform.spark_dbt import dbt_build_in_session, prepare_session
from orchestration.metadata import markdown_table
from orchestration.resources import LakehouseResource
from transforms.catalogue import Dataset
from transforms.config import export_environment
from transforms.delta_io import current_version
from transforms.publish import SILVER_TABLES, read_warehouse_table
from transforms.quality.lineage import silver_to_bronze
from transforms.quality.results import record_results
from transforms.quality.suites import load_suite
from transforms.quality.wap import Audit, audit_publish, staging_path


class LakehouseDbtTranslator(DagsterDbtTranslator):
    """dbt sources are the bronze ingestion assets; models are keyed `dbt/<schema>/<name>`."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey(["dbt", dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return f"dbt_{dbt_resource_props['schema']}"


def bronze_versions(lakehouse: LakehouseResource, catalogue: dict[str, Dataset]) -> dict[str, int]:
    """The Delta version of every bronze table now: dbt reads exactly these."""
    env = lakehouse.env()
    versions = {name: current_version(env.table_path(f"bronze.{name}")) for name in catalogue}
    return {name: v for name, v in versions.items() if v is not None}


def build_dbt_assets(project: DbtProject, catalogue: dict[str, Dataset]) -> dg.AssetsDefinition:
    """One multi-asset for the dbt graph; `dbt build` runs models and their tests."""
    translator = LakehouseDbtTranslator()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        name="dbt_silver",
    )
    def _dbt(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, lakehouse: LakehouseResource
    ) -> Iterator[Any]:
        env = lakehouse.env()
        export_environment(env)
        versions = bronze_versions(lakehouse, catalogue)
        context.log.info(f"dbt reads bronze at versions {versions} on {env.engine}")
        if env.engine == "spark":
            prepare_session(env, catalogue, versions)
            yield from dbt_build_in_session(context, env, project, translator, versions)
            return
        args = ["build", "--vars", json.dumps({"bronze_versions": versions})]
        yield from dbt.cli(args, context=context).stream()

    return _dbt


AUDIT_BLOCKING = "audit_blocking"
AUDIT_WARNINGS = "audit_warnings"
KEYS = {"comms_events": "event_key"}
LINEAGE_CHECKED = ("person_records", "comms_events")
CHILDREN_OF_PERSONS = ("addresses", "comms_identifiers", "document_identifiers")


def audit_check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """The two checks every audited table carries: blocking (schema, keys, lineage) and warnings."""
    return [
        dg.AssetCheckSpec(
            AUDIT_BLOCKING,
            asset=key,
            blocking=True,
            description="Schema, key and lineage expectations; a failure publishes nothing.",
        ),
        dg.AssetCheckSpec(
            AUDIT_WARNINGS,
            asset=key,
            description="Row-level value and format expectations; failing rows are quarantined.",
        ),
    ]


def audit_results(key: dg.AssetKey, audit: Audit) -> list[dg.AssetCheckResult]:
    """The audit of one table as Dagster check results a steward can act on."""
    warnings = [c for c in audit.checks if c["severity"] != "blocking" and not c["passed"]]
    blocking = [c for c in audit.checks if c["severity"] == "blocking" and not c["passed"]]

    def summary(rows: list[dict[str, object]]) -> dict[str, object]:
        return {
            "failing_checks": len(rows),
            "details": dg.MetadataValue.md(
                markdown_table(
                    pl.DataFrame(rows).select("check", "failing", "failing_share", "sample_keys")
                )
            )
            if rows
            else "none",
        }

    return [
        dg.AssetCheckResult(
            asset_key=key,
            check_name=AUDIT_BLOCKING,
            passed=not blocking,
            metadata={**summary(blocking), "candidate_version": audit.candidate_version},
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=AUDIT_WARNINGS,
            passed=not warnings,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={**summary(warnings), "quarantined_rows": audit.quarantined},
        ),
    ]


def silver_publication(tables: tuple[str, ...] = SILVER_TABLES) -> dg.AssetsDefinition:
    """Silver tables from the DuckDB warehouse into Delta, through write-audit-publish."""
    keys = {table: dg.AssetKey(["silver", table]) for table in tables}
    specs = [
        dg.AssetSpec(
            key,
            deps=[dg.AssetKey(["dbt", "silver", table])],
            group_name="silver",
            description=f"silver.{table} as a Delta table (SCHEMA.md §2), published only after its audit.",
            kinds={"delta"},
            tags={"layer": "silver"},
        )
        for table, key in keys.items()
    ]

    @dg.multi_asset(
        specs=specs,
        name="publish_silver",
        can_subset=False,
        check_specs=[spec for key in keys.values() for spec in audit_check_specs(key)],
    )
    def _publish(context: dg.AssetExecutionContext, lakehouse: LakehouseResource) -> Iterator[Any]:
        env = lakehouse.env()
        run_id = context.run.run_id
        quarantined_persons: set[str] = set()
        check_rows: list[dict[str, object]] = []
        for table in tables:
            frame = read_warehouse_table(env, "silver", table)
            lineage = (
                silver_to_bronze(env, frame, f"{table}_to_bronze")
                if table in LINEAGE_CHECKED
                else None
            )
            audit = audit_publish(
                env,
                "silver",
                table,
                frame,
                load_suite(env.expectations_dir / "silver" / f"{table}.json"),
                run_id,
                key=KEYS.get(table, "record_key"),
                lineage=lineage,
                exclude_keys=quarantined_persons if table in CHILDREN_OF_PERSONS else None,
            )
            if table == "person_records":
                quarantined_persons = audit.quarantined_keys
            check_rows.extend(audit.checks)
            yield dg.MaterializeResult(
                asset_key=keys[table],
                metadata={
                    "published": audit.published,
                    "rows": audit.rows,
                    "delta_version": audit.published_version
                    if audit.published_version is not None
                    else -1,
                    "candidate": str(staging_path(env, "silver", table)),
                    "candidate_version": audit.candidate_version,
                    "quarantined_rows": audit.quarantined,
                    "excluded_with_quarantined_person": audit.excluded_with_parent,
                },
                data_version=dg.DataVersion(str(audit.published_version))
                if audit.published
                else None,
            )
            yield from audit_results(keys[table], audit)
        record_results(env, check_rows, run_id)

    return _publish


def build_transform_defs(project: DbtProject, catalogue: dict[str, Dataset]) -> dg.Definitions:
    """Everything the transform domain contributes."""
    return dg.Definitions(
        assets=[build_dbt_assets(project, catalogue), silver_publication()],
        resources={
            "dbt": OfflineDbtCliResource(
                project_dir=project,
                profiles_dir=str(project.profiles_dir),
                target=project.target,
                dbt_executable=dbt_executable(),
            )
        },
    )
