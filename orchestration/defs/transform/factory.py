"""dbt models as Dagster assets (sources mapped onto bronze), and the silver Delta publication."""

import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.dbt_project import dbt_executable
from orchestration.resources import LakehouseResource
from transforms.catalogue import Dataset
from transforms.config import export_environment
from transforms.delta_io import current_version
from transforms.publish import SILVER_TABLES, publish_tables


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

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=LakehouseDbtTranslator(),
        name="dbt_silver",
    )
    def _dbt(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, lakehouse: LakehouseResource
    ) -> Iterator[Any]:
        export_environment(lakehouse.env())
        versions = bronze_versions(lakehouse, catalogue)
        context.log.info(f"dbt reads bronze at versions {versions}")
        args = ["build", "--vars", json.dumps({"bronze_versions": versions})]
        yield from dbt.cli(args, context=context).stream()

    return _dbt


def silver_publication(tables: tuple[str, ...] = SILVER_TABLES) -> dg.AssetsDefinition:
    """Silver tables copied from the DuckDB warehouse into Delta, so silver has time travel."""
    specs = [
        dg.AssetSpec(
            ["silver", table],
            deps=[dg.AssetKey(["dbt", "silver", table])],
            group_name="silver",
            description=f"silver.{table} as a Delta table (SCHEMA.md §2), one version per publication.",
            kinds={"delta"},
            tags={"layer": "silver"},
        )
        for table in tables
    ]

    @dg.multi_asset(specs=specs, name="publish_silver", can_subset=True)
    def _publish(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> Iterator[dg.MaterializeResult]:
        selected = [key.path[-1] for key in context.selected_asset_keys]
        for result in publish_tables(
            lakehouse.env(), "silver", selected, run_id=context.run.run_id
        ):
            yield dg.MaterializeResult(
                asset_key=["silver", result.table],
                metadata={"rows": result.rows, "delta_version": result.version},
                data_version=dg.DataVersion(str(result.version)),
            )

    return _publish


def build_transform_defs(project: DbtProject, catalogue: dict[str, Dataset]) -> dg.Definitions:
    """Everything the transform domain contributes."""
    return dg.Definitions(
        assets=[build_dbt_assets(project, catalogue), silver_publication()],
        resources={
            "dbt": DbtCliResource(
                project_dir=project,
                profiles_dir=str(project.profiles_dir),
                target=project.target,
                dbt_executable=dbt_executable(),
            )
        },
    )
