"""The dbt project, in its own module so `dagster-dbt project prepare-and-package` can load it.

Building the project object reads configuration only: it renders nothing and parses nothing.
`make manifest` renders the catalogue into dbt's generated files (`transforms.dbt_catalogue`) and
then prepares the manifest; `lakehouse ui` does the same once before it starts `dagster dev`
(rather than `DbtProject.prepare_if_dev()`, which would re-parse in every run's process).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from transforms.config import Environment, get_environment


class ManifestMissing(FileNotFoundError):
    """The dbt manifest has not been prepared (`make manifest`)."""


def dbt_executable() -> str:
    """`dbt` beside the running interpreter, so it works without the venv on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def project_of(env: Environment) -> DbtProject:
    """The DbtProject an environment names (reads dbt_project.yml only)."""
    return DbtProject(
        project_dir=env.dbt_project_dir, profiles_dir=env.dbt_project_dir, target=env.dbt_target
    )


def dbt_project_for(env: Environment) -> DbtProject:
    """The DbtProject of an environment; its manifest must have been prepared."""
    project = project_of(env)
    if not project.manifest_path.exists():
        raise ManifestMissing(
            f"{project.manifest_path}: no dbt manifest; run `make manifest` (it renders the "
            "catalogue into dbt and parses the project)"
        )
    return project


def prepare_dbt_project(env: Environment) -> DbtProject:
    """What `make manifest` does, for any environment: render the catalogue into dbt, then parse.

    An explicit act (a build step, or a test with its own catalogue), never an import.
    """
    from transforms.dbt_catalogue import render_dbt_catalogue

    render_dbt_catalogue(env.catalogue_dir, env.dbt_project_dir)
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
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    return project_of(env)


# Loaded by `dagster-dbt project prepare-and-package --file orchestration/dbt_project.py`.
dbt_project = project_of(get_environment())
