"""How an entity came to be: created, merged, split, records gained and lost, run by run.

Two sources, both kept by every resolution run: `ops.entity_id_changes` (the id rule's verdicts:
created, merged, split, retired, with the run and model version) and the Delta versions of
`gold.entity_records` (which records the entity held after each run). The second answers what
the first cannot: a record joining or leaving an entity that keeps its id.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from deltalake import DeltaTable

from transforms.config import Environment
from transforms.delta_io import history, read_where_in
from transforms.resolve.explain import RECORDS, NotVisible

CHANGES = "ops.entity_id_changes"
MAX_VERSIONS = 50  # versions of gold.entity_records read back; older history: ops.entity_id_changes
EVENT_SCHEMA = {
    "version": pl.Int64,
    "at": pl.Datetime("us", "UTC"),
    "run_id": pl.String,
    "model_version": pl.Int64,
    "event": pl.String,
    "related_entity_id": pl.String,
    "records": pl.Int64,
    "detail": pl.String,
}


def id_changes(env: Environment, entity_id: str) -> pl.DataFrame:
    """`ops.entity_id_changes` rows naming the entity, described from its side."""
    path = env.table_path(CHANGES)
    if not DeltaTable.is_deltatable(str(path)):
        return pl.DataFrame(schema=EVENT_SCHEMA)
    changes = pl.from_arrow(DeltaTable(str(path)).to_pyarrow_table())
    assert isinstance(changes, pl.DataFrame)
    mine = changes.filter(
        (pl.col("entity_id") == entity_id) | (pl.col("related_entity_id") == entity_id)
    )
    own = pl.col("entity_id") == entity_id
    change = pl.col("change")
    event = (
        pl.when(own & (change == "merged"))
        .then(pl.lit("merged into"))
        .when(own & (change == "split"))
        .then(pl.lit("split from"))
        .when(own)
        .then(change)
        .when(change == "merged")
        .then(pl.lit("absorbed"))
        .otherwise(pl.lit("lost to split"))
    )
    other = pl.when(own).then(pl.col("related_entity_id")).otherwise(pl.col("entity_id"))
    return mine.select(
        pl.lit(None, dtype=pl.Int64).alias("version"),
        pl.col("recorded_at").cast(pl.Datetime("us", "UTC")).alias("at"),
        "run_id",
        pl.col("model_version").cast(pl.Int64),
        event.alias("event"),
        other.alias("related_entity_id"),
        pl.col("records").cast(pl.Int64),
        pl.lit(None, dtype=pl.String).alias("detail"),
    )


def membership_changes(env: Environment, entity_id: str) -> pl.DataFrame:
    """Per version of gold.entity_records (the last MAX_VERSIONS): records gained and lost."""
    path = env.table_path(RECORDS)
    if not DeltaTable.is_deltatable(str(path)):
        return pl.DataFrame(schema=EVENT_SCHEMA)
    versions = sorted(history(path), key=lambda v: v["version"])[-MAX_VERSIONS:]
    rows: list[dict[str, object]] = []
    held: set[str] = set()
    for entry in versions:
        table = DeltaTable(str(path), version=entry["version"])
        now = set(
            read_where_in(table, ["record_key"], "entity_id", [entity_id])["record_key"].to_pylist()
        )
        gained, lost = sorted(now - held), sorted(held - now)
        for event, keys in (("gained", gained), ("lost", lost)):
            if keys:
                rows.append(
                    {
                        "version": entry["version"],
                        "at": entry["timestamp"],
                        "run_id": entry["run_id"],
                        "model_version": None,
                        "event": f"records {event}",
                        "related_entity_id": None,
                        "records": len(keys),
                        "detail": ", ".join(keys[:10]) + (" ..." if len(keys) > 10 else ""),
                    }
                )
        held = now
    return pl.DataFrame(rows, schema=EVENT_SCHEMA)


def entity_history(
    env: Environment, entity_id: str, may_see: Callable[[str], bool]
) -> pl.DataFrame:
    """The entity's history, oldest first: id changes and membership changes, with run and model."""
    records = RECORDS
    path = env.table_path(records)
    if not DeltaTable.is_deltatable(str(path)):
        raise NotVisible(f"no entity {entity_id} visible")
    levels = pl.from_arrow(
        read_where_in(DeltaTable(str(path)), ["classification"], "entity_id", [entity_id])
    )
    assert isinstance(levels, pl.DataFrame)
    changes = id_changes(env, entity_id)
    if levels.height == 0 and changes.height == 0:
        raise NotVisible(f"no entity {entity_id} visible")
    if levels.height and not all(may_see(c) for c in levels["classification"].to_list()):
        raise NotVisible(f"no entity {entity_id} visible")
    members = membership_changes(env, entity_id)
    models = changes.select("run_id", pl.col("model_version").alias("model")).unique("run_id")
    members = (
        members.join(models, on="run_id", how="left")
        .with_columns(pl.coalesce("model_version", "model").alias("model_version"))
        .drop("model")
    )
    return pl.concat([changes, members]).sort("at", "version", nulls_last=True)
