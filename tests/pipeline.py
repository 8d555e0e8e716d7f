"""Run the deployed graph for a tmp_path lakehouse, as `lakehouse run` would.

The definitions are the deployed ones, built for the test's home by the very function the code
location calls (`orchestration.build.build_definitions`); only the Dagster instance is
ephemeral.
"""

from __future__ import annotations

import dagster as dg

from orchestration.runner import RunReport, definitions_for, run_assets
from transforms.config import Environment


def run_everything(env: Environment, selection: str | None = None) -> RunReport:
    """Materialise the deployed graph (or `selection`) in-process on an ephemeral instance."""
    return run_assets(
        env, selection, defs=definitions_for(env), instance=dg.DagsterInstance.ephemeral()
    )
