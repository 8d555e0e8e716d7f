"""Dagster helpers shared by more than one domain under `orchestration/defs/`."""
