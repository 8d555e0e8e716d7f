"""Pure, typed logic of the lakehouse: catalogue, generation, ingestion, Delta I/O.

Dagster code in `orchestration/` is a thin shell over these functions, so they are tested
without Dagster.
"""

from transforms.allocator import return_freed_memory

return_freed_memory()  # before any module here imports polars: see transforms/allocator.py
