"""`lakehouse`: the command line of SCHEMA.md §5."""

from orchestration.cli import er_commands  # noqa: F401  (registers its commands on `app`)
from orchestration.cli.app import app

__all__ = ["app"]
