"""`lakehouse`: the command line of SCHEMA.md §5."""

from orchestration.cli import er_commands, quality_commands  # noqa: F401  (register commands on `app`)
from orchestration.cli.app import app

__all__ = ["app"]
