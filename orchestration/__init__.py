"""Dagster shell over `transforms/`: assets, checks, schedules and sensors per domain."""
