"""`lakehouse`: the command line of SCHEMA.md §5."""

from orchestration.cli.app import app

__all__ = ["app"]
