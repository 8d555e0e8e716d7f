"""Transform definitions for the configured dbt project and catalogue."""

from orchestration.dbt_project import dbt_project
from orchestration.defs.transform.factory import build_transform_defs
from transforms.catalogue import load_catalogue
from transforms.config import get_environment

defs = build_transform_defs(dbt_project, load_catalogue(get_environment().catalogue_dir))
