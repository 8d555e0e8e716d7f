"""The resources every domain shares, built from the one environment helper."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import dagster as dg

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


def shared_resources() -> dict[str, object]:
    """Resources bound in the deployed definitions."""
    return {"lakehouse": LakehouseResource()}
