"""dbt models as Dagster assets (sources mapped onto bronze), and the silver Delta publication.

Both are automated: they run when their inputs change and every blocking check upstream passed,
and both hold the warehouse pool (DuckDB allows one process per database file).
"""

import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.automation import WAREHOUSE_POOL, downstream_condition
from orchestration.defs.transform.spark_dbt import dbt_build_in_session, prepare_session
from orchestration.lib.audits import audit_check_specs, audit_results
from orchestration.resources import LakehouseResource
from transforms.catalogue import Dataset
from transforms.config import export_environment
from transforms.contract import SILVER_TABLES
from transforms.delta_io import current_version
from transforms.locks import warehouse_lock
from transforms.quality.wap import audit_silver, staging_path
from transforms.silver_plan import plan_build


class LakehouseDbtTranslator(DagsterDbtTranslator):
    """dbt sources are the bronze ingestion assets; models are keyed `dbt/<schema>/<name>`."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey(["dbt", dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return f"dbt_{dbt_resource_props['schema']}"

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        return downstream_condition()


def bronze_versions(lakehouse: LakehouseResource, catalogue: dict[str, Dataset]) -> dict[str, int]:
    """The Delta version of every bronze table now: dbt reads exactly these."""
    env = lakehouse.env()
    versions = {name: current_version(env.table_path(f"bronze.{name}")) for name in catalogue}
    return {name: v for name, v in versions.items() if v is not None}


class SilverBuildConfig(dg.Config):
    """`full_refresh`: normalise every bronze row again (`lakehouse rebuild-silver`)."""

    full_refresh: bool = False


def build_dbt_assets(project: DbtProject, catalogue: dict[str, Dataset]) -> dg.AssetsDefinition:
    """One multi-asset for the dbt graph; `dbt build` runs models and their tests."""
    translator = LakehouseDbtTranslator()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        name="dbt_silver",
        pool=WAREHOUSE_POOL,
    )
    def _dbt(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        lakehouse: LakehouseResource,
        config: SilverBuildConfig,
    ) -> Iterator[Any]:
        env = lakehouse.env()
        export_environment(env)
        if env.engine == "spark":
            versions = bronze_versions(lakehouse, catalogue)
            context.log.info(f"dbt reads bronze at versions {versions} on spark")
            prepare_session(env, catalogue, versions)
            yield from dbt_build_in_session(context, env, project, translator, versions)
            return
        with warehouse_lock(env, f"dbt build in run {context.run.run_id}"):
            plan = plan_build(env, catalogue, full_refresh=config.full_refresh)
            context.log.info(f"{plan.summary()}; bronze versions {plan.bronze_versions}")
            args = ["build", "--vars", json.dumps(plan.dbt_vars())]
            if config.full_refresh or not plan.incremental:  # from scratch: no held row stays
                args.append("--full-refresh")
            yield from dbt.cli(args, context=context).stream()

    return _dbt


def silver_publication(tables: tuple[str, ...] = SILVER_TABLES) -> dg.AssetsDefinition:
    """Silver tables from the DuckDB warehouse into Delta, through write-audit-publish.

    A table whose blocking audit fails is not materialised: the last good version stays, its
    failed check is shown, and nothing downstream runs on it.
    """
    keys = {table: dg.AssetKey(["silver", table]) for table in tables}
    specs = [
        dg.AssetSpec(
            key,
            deps=[dg.AssetKey(["dbt", "silver", table])],
            group_name="silver",
            description=f"silver.{table} as a Delta table (SCHEMA.md §2), published only after its audit.",
            kinds={"delta"},
            tags={"layer": "silver"},
            automation_condition=downstream_condition(),
            skippable=True,
        )
        for table, key in keys.items()
    ]

    @dg.multi_asset(
        specs=specs,
        name="publish_silver",
        can_subset=False,
        pool=WAREHOUSE_POOL,
        check_specs=[spec for key in keys.values() for spec in audit_check_specs(key)],
    )
    def _publish(
        context: dg.AssetExecutionContext,
        lakehouse: LakehouseResource,
        config: SilverBuildConfig,
    ) -> Iterator[Any]:
        env = lakehouse.env()
        audits = audit_silver(env, context.run.run_id, full_refresh=config.full_refresh)
        for audit in audits:
            table = audit.table.split(".", 1)[-1]
            if not audit.changed:  # still materialised: the steps after it in this run need it
                context.log.info(f"{audit.table}: no change to publish")
            if audit.published:
                yield dg.MaterializeResult(
                    asset_key=keys[table],
                    metadata={
                        "rows": audit.rows,
                        "delta_version": audit.published_version
                        if audit.published_version is not None
                        else -1,
                        "candidate": str(staging_path(env, "silver", table)),
                        "candidate_version": audit.candidate_version,
                        "quarantined_rows": audit.quarantined,
                        "excluded_with_quarantined_person": audit.excluded_with_parent,
                        "changed": audit.changed,
                    },
                    data_version=dg.DataVersion(str(audit.published_version)),
                )
            yield from audit_results(keys[table], audit)

    return _publish


def build_transform_defs(project: DbtProject, catalogue: dict[str, Dataset]) -> dg.Definitions:
    """Everything the transform domain contributes (its dbt resource is bound in resources.py)."""
    return dg.Definitions(assets=[build_dbt_assets(project, catalogue), silver_publication()])
