"""`lakehouse`: the command line of SCHEMA.md §5."""

from orchestration.cli import (  # noqa: F401  (register commands on `app`)
    audit_commands,
    audit_report_commands,
    cut_commands,
    er_commands,
    governance_commands,
    network_commands,
    quality_commands,
    search_commands,
    sql_commands,
    steward_commands,
    task_commands,
)
from orchestration.cli.app import app

__all__ = ["app"]
