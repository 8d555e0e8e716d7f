"""The deployed definitions as a pure function of configuration.

`build_definitions(env)` reads only configuration (the catalogue, the partner agreements, the
dbt manifest `make manifest` prepared): it opens no Delta table, runs no dbt, writes no file.
The code location (`orchestration.definitions`) and the tests call this same function, the
tests for a temporary home.
"""

from __future__ import annotations

import dagster as dg

from orchestration.automation import automation_sensor
from orchestration.classification import with_classifications
from orchestration.dbt_project import dbt_project_for
from orchestration.defs.entity_resolution.assets import build_entity_resolution_defs
from orchestration.defs.evaluation.normalisation import normalisation_report
from orchestration.defs.governance.audit_report import audit_report_asset
from orchestration.defs.governance.cuts import build_cut_defs
from orchestration.defs.governance.retention import retention_job, retention_schedule
from orchestration.defs.ingest.factory import build_ingest_defs
from orchestration.defs.quality.data_docs import data_docs_asset
from orchestration.defs.transform.factory import build_transform_defs
from orchestration.resources import shared_resources
from transforms.catalogue import load_catalogue
from transforms.config import Environment
from transforms.governance.partners import load_partners

# The daemon's runs execute their steps in the run's own process, as `lakehouse run` does. A step
# in its own process (Dagster's default) paid 4-7 s of start-up and imports for work that is often
# a second or two, and bought no parallelism: every step that opens the warehouse holds the
# one-slot `duckdb_warehouse` pool, so a run's steps ran one at a time anyway.
RUN_EXECUTOR = dg.in_process_executor


def build_definitions(env: Environment) -> dg.Definitions:
    """Every domain's definitions for the catalogue, partners and dbt project of `env`."""
    catalogue = load_catalogue(env.catalogue_dir)
    project = dbt_project_for(env)
    partners = load_partners(env.catalogue_dir)
    defs = dg.Definitions.merge(
        build_ingest_defs(catalogue, env.sensor_seconds),
        build_transform_defs(project, catalogue),
        build_entity_resolution_defs(),
        dg.Definitions(assets=[normalisation_report, data_docs_asset(catalogue)]),
        build_cut_defs(partners),
        dg.Definitions(assets=[audit_report_asset(catalogue, partners.values())]),
        dg.Definitions(jobs=[retention_job], schedules=[retention_schedule]),
        dg.Definitions(
            resources=shared_resources(env, project),
            sensors=[automation_sensor(env.sensor_seconds)],
            executor=RUN_EXECUTOR,
        ),
    )
    return with_classifications(defs)
