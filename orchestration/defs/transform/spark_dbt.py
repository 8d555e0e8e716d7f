"""`dbt build` on the Spark engine: in-process (dbtRunner), in the lakehouse's SparkSession.

dbt-spark's `session` method takes the process's session, so it sees the bronze views pinned
here and the normalisation UDFs. dagster-dbt's CLI resource runs dbt in a child process, which
would have a session of its own; so this module runs dbt and turns its results into the same
materialisations and check results the CLI resource yields.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject
from dagster_dbt.asset_utils import get_asset_check_key_for_test, get_subset_selection_for_context

from transforms.catalogue import Dataset
from transforms.config import Environment
from transforms.ingest.pipeline import bronze_schema
from transforms.normalise.spark_udfs import register_spark_udfs
from transforms.spark.delta import register_bronze_views
from transforms.spark.session import spark_session

PASSED = {"success", "pass"}


def prepare_session(
    env: Environment, catalogue: dict[str, Dataset], versions: dict[str, int]
) -> None:
    """UDFs and the bronze views at the pinned versions, in the session dbt will use."""
    spark = spark_session(env)
    register_spark_udfs(spark)
    schemas = {name: bronze_schema(dataset) for name, dataset in catalogue.items()}
    register_bronze_views(spark, env, catalogue, versions, schemas)


def dbt_build_in_session(
    context: dg.AssetExecutionContext,
    env: Environment,
    project: DbtProject,
    translator: DagsterDbtTranslator,
    versions: dict[str, int],
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Run `dbt build` for the selected models and yield what it materialised and checked."""
    from dbt.cli.main import dbtRunner

    manifest = json.loads(project.manifest_path.read_text())
    selection, indirect = get_subset_selection_for_context(
        context, manifest, None, None, None, translator, None
    )
    if indirect is not None:
        os.environ["DBT_INDIRECT_SELECTION"] = indirect
    args = [
        "build",
        "--project-dir",
        str(project.project_dir),
        "--profiles-dir",
        str(project.profiles_dir),
        "--target",
        env.dbt_target,
        # Its own artefacts: the manifest dagster-dbt loads stays the one `make manifest` parsed.
        "--target-path",
        str(env.spark_dir / "dbt_target"),
        "--vars",
        json.dumps({"bronze_versions": versions}),
        # The unit tests' fixtures are written in DuckDB's literal syntax ([] lists); the rules
        # they test are the same Python functions on both engines and run in CI on DuckDB.
        "--exclude-resource-type",
        "unit_test",
        *selection,
    ]
    context.log.info(f"dbt (in-process, Spark session) {' '.join(args)}")
    outcome = dbtRunner().invoke(args)
    if outcome.exception is not None:
        raise dg.Failure(f"dbt could not run on Spark: {outcome.exception}")
    failures = []
    for result in outcome.result.results:
        node = result.node
        status = str(result.status)
        yield from _events(context, manifest, project, translator, node.unique_id, status)
        if status not in PASSED and status not in {"warn", "skipped"}:
            failures.append(f"{node.unique_id}: {status} {result.message or ''}".strip())
    if failures:
        raise dg.Failure("dbt build failed on Spark: " + "; ".join(failures[:5]))


def _events(
    context: dg.AssetExecutionContext,
    manifest: Mapping[str, Any],
    project: DbtProject,
    translator: DagsterDbtTranslator,
    unique_id: str,
    status: str,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    if unique_id.startswith("model.") and status in PASSED:
        key = translator.get_asset_spec(manifest, unique_id, project).key
        if key in context.selected_asset_keys:
            yield dg.MaterializeResult(
                asset_key=key, metadata={"unique_id": unique_id, "engine": "spark"}
            )
    elif unique_id.startswith("test.") and status != "skipped":
        check = get_asset_check_key_for_test(manifest, translator, unique_id, project)
        if check is None or check not in context.selected_asset_check_keys:
            return
        severity = manifest["nodes"][unique_id].get("config", {}).get("severity", "ERROR")
        yield dg.AssetCheckResult(
            asset_key=check.asset_key,
            check_name=check.name,
            passed=status in PASSED,
            severity=dg.AssetCheckSeverity.WARN
            if str(severity).upper() == "WARN"
            else dg.AssetCheckSeverity.ERROR,
            metadata={"status": status, "engine": "spark"},
        )
