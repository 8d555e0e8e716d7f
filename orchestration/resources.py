"""The resources every domain shares, bound once for one environment."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtProject

from orchestration.dbt_project import dbt_executable
from orchestration.defs.transform.dbt_resource import OfflineDbtCliResource
from transforms.catalogue import Dataset, load_catalogue
from transforms.config import Environment, get_environment
from transforms.storage import storage_path


class LakehouseResource(dg.ConfigurableResource):
    """Storage roots of the lakehouse; empty fields fall back to the environment helper."""

    home: str = ""
    catalogue_dir: str = ""

    def env(self) -> Environment:
        env = get_environment()
        if self.home:
            env = replace(env, home=storage_path(self.home))
        if self.catalogue_dir:
            env = replace(env, catalogue_dir=Path(self.catalogue_dir))
        return env

    def catalogue(self) -> dict[str, Dataset]:
        return load_catalogue(self.env().catalogue_dir)


def shared_resources(env: Environment, project: DbtProject) -> dict[str, object]:
    """The resources of the deployed definitions, for the lakehouse `env` names."""
    return {
        "lakehouse": LakehouseResource(home=str(env.home), catalogue_dir=str(env.catalogue_dir)),
        "dbt": OfflineDbtCliResource(
            project_dir=project,
            profiles_dir=str(project.profiles_dir),
            target=project.target,
            dbt_executable=dbt_executable(),
        ),
    }
