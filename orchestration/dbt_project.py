"""The dbt project, in its own module so `dagster-dbt project prepare-and-package` can load it.

Before dbt parses, the catalogue is rendered into the dbt files derived from it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from transforms.config import Environment, get_environment
from transforms.dbt_catalogue import render_dbt_catalogue


def dbt_executable() -> str:
    """`dbt` beside the running interpreter, so it works without the venv on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def dbt_project_for(env: Environment) -> DbtProject:
    """The DbtProject of an environment, with its generated files rendered and manifest fresh."""
    render_dbt_catalogue(env.catalogue_dir, env.dbt_project_dir)
    project = DbtProject(
        project_dir=env.dbt_project_dir, profiles_dir=env.dbt_project_dir, target=env.dbt_target
    )
    ensure_manifest(project, env)
    return project


def ensure_manifest(project: DbtProject, env: Environment) -> None:
    """Parse when the manifest is missing or older than any dbt source file or catalogue entry."""
    manifest = project.manifest_path
    inputs = [
        *env.dbt_project_dir.glob("models/**/*"),
        *env.dbt_project_dir.glob("macros/**/*"),
        *env.dbt_project_dir.glob("tests/**/*"),
        env.dbt_project_dir / "dbt_project.yml",
        *env.catalogue_dir.glob("*.yml"),
    ]
    newest = max((p.stat().st_mtime for p in inputs if p.is_file()), default=0.0)
    if manifest.exists() and manifest.stat().st_mtime >= newest:
        return
    subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--quiet",
            "--project-dir",
            str(env.dbt_project_dir),
            "--profiles-dir",
            str(env.dbt_project_dir),
            "--target",
            env.dbt_target,
        ],
        check=True,
        env={
            **os.environ,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "LAKEHOUSE_HOME": str(env.home),
            "LAKEHOUSE_WAREHOUSE": str(env.warehouse),
            "LAKEHOUSE_CATALOGUE": str(env.catalogue_dir),
        },
    )


dbt_project = dbt_project_for(get_environment())
