"""dagster-dbt's CLI resource, without its `dbt --version` call, which reaches PyPI.

`DbtCliResource` learns the dbt version by running `dbt --version` before every build. That
prints whether a newer dbt-core and adapters are on PyPI, so it makes one HTTPS request per
package: an air-gapped site waits on each, and every run pays a second dbt start-up. The `dbt`
we run is the one installed beside this interpreter (`dbt_executable()`), so its version is the
installed dbt-core's, read from the package metadata.
"""

from __future__ import annotations

from functools import cached_property
from importlib.metadata import version as installed_version

from dagster_dbt import DbtCliResource
from packaging import version


class OfflineDbtCliResource(DbtCliResource):
    """A `DbtCliResource` that reads the dbt version from the installed package, not `dbt --version`."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(installed_version("dbt-core"))
