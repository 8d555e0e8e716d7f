"""Pure, typed logic of the lakehouse: catalogue, generation, ingestion, Delta I/O.

Dagster code in `orchestration/` is a thin shell over these functions, so they are tested
without Dagster.
"""
