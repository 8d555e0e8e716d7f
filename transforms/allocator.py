"""Polars' allocator returns freed memory to the system at once, not ten seconds later.

Polars allocates through its own jemalloc, which by default keeps freed pages for ten seconds
(`dirty_decay_ms`) in case they are wanted again. Resolution builds and drops frames of
millions of rows one after another within seconds, so the kept pages pile up: at 1M people
the process's resident memory was several times what its live frames held. With the decay at
zero, purged on jemalloc's background thread, freed pages go back at once.

jemalloc reads its options once, when polars' library first allocates, so this must run
before polars is imported (`transforms/__init__.py`). An operator's own `_RJEM_MALLOC_CONF`
is left as it is.
"""

from __future__ import annotations

import os

POLARS_MALLOC_CONF = "background_thread:true,dirty_decay_ms:0,muzzy_decay_ms:0"
VARIABLE = "_RJEM_MALLOC_CONF"  # tikv-jemallocator's prefixed name for MALLOC_CONF


def return_freed_memory() -> None:
    """Set polars' jemalloc options for this process and its children, unless already set."""
    os.environ.setdefault(VARIABLE, POLARS_MALLOC_CONF)
