"""dagster-dbt's CLI resource, without the two things it does before every `dbt build`.

- It runs `dbt --version` to learn the dbt version. That prints whether a newer dbt-core and
  adapters are on PyPI, so it makes one HTTPS request per package: an air-gapped site waits on
  each, and every run pays a second dbt start-up. The `dbt` we run is the one installed beside
  this interpreter (`dbt_executable()`), so its version is the installed dbt-core's.
- It parses the project in this process to open a dbt adapter (2 s a run), which serves only
  `fetch_row_counts()` and `fetch_column_metadata()`; we use neither.
"""

from __future__ import annotations

from functools import cached_property
from importlib.metadata import version as installed_version
from typing import Any

from dagster_dbt import DbtCliResource
from packaging import version


class OfflineDbtCliResource(DbtCliResource):
    """A `DbtCliResource` that neither runs `dbt --version` nor opens an adapter in-process."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return None  # dagster-dbt then streams events without an adapter, as for dbt Fusion
