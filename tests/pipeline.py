"""Build the whole graph for a tmp_path lakehouse and run it, as `lakehouse run` would."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt_project import dbt_project_for
from orchestration.defs.entity_resolution import assets as er_assets
from orchestration.defs.evaluation.normalisation import normalisation_report
from orchestration.defs.ingest.factory import build_ingest_defs
from orchestration.defs.quality.data_docs import data_docs
from orchestration.defs.transform.factory import build_transform_defs
from orchestration.resources import LakehouseResource
from orchestration.runner import RunReport, run_assets
from transforms.catalogue import load_catalogue
from transforms.config import Environment


def definitions_for(env: Environment) -> dg.Definitions:
    """Every domain's definitions for this environment's catalogue and dbt project."""
    catalogue = load_catalogue(env.catalogue_dir)
    return dg.Definitions.merge(
        build_ingest_defs(catalogue),
        build_transform_defs(dbt_project_for(env), catalogue),
        dg.Definitions(
            assets=[
                normalisation_report,
                er_assets.entity_resolution_model,
                er_assets.resolve_entities,
                er_assets.er_evaluations,
                er_assets.er_dashboards,
                data_docs,
            ],
            resources={
                "lakehouse": LakehouseResource(
                    home=str(env.home), catalogue_dir=str(env.catalogue_dir)
                )
            },
        ),
    )


def run_everything(env: Environment, selection: str | None = None) -> RunReport:
    """Materialise the graph in-process on an ephemeral Dagster instance."""
    return run_assets(
        env,
        selection,
        defs=definitions_for(env),
        instance=dg.DagsterInstance.ephemeral(),
        log_level="WARNING",
    )
