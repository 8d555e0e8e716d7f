"""Entity ids that survive re-runs.

Rule (documented in the README):
1. Every new cluster is matched to the previous entities its records belonged to. Pairs
   (cluster, previous entity) are taken in order of most shared records (ties: lower previous
   id, then lower cluster id); each previous id goes to at most one cluster and each cluster
   takes at most one previous id. So an entity keeps its id while its membership overlaps.
2. A cluster that inherits nothing gets a new id derived from its smallest record key
   (deterministic: the same data always gives the same ids).
3. Changes are recorded: `created` (new id), `merged` (a previous entity whose records now
   sit in another entity), `split` (a new entity carved out of a previous one),
   `retired` (a previous entity none of whose records remain).
"""

from __future__ import annotations

import hashlib

import polars as pl

CHANGE_SCHEMA = {
    "change": pl.String,
    "entity_id": pl.String,
    "related_entity_id": pl.String,
    "records": pl.Int64,
}


def new_entity_id(smallest_record_key: str) -> str:
    return "E" + hashlib.sha256(smallest_record_key.encode()).hexdigest()[:15].upper()


def assign_entity_ids(
    clusters: pl.DataFrame, previous: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`clusters` (unique_id, cluster_id) + previous (entity_id, record_key) -> ids and changes."""
    if previous is None:
        previous = pl.DataFrame(schema={"entity_id": pl.String, "record_key": pl.String})
    members = clusters.select(
        pl.col("unique_id").alias("record_key"), pl.col("cluster_id").cast(pl.String)
    )
    overlap = (
        members.join(
            previous.select("record_key", pl.col("entity_id").alias("previous_id")), on="record_key"
        )
        .group_by("cluster_id", "previous_id")
        .len("shared")
    )
    # A cluster with exactly the records of a previous entity keeps its id: no other cluster
    # shares a record with that entity, so rule 1's greedy pass would give it the same. Most
    # clusters of an incremental run are such; only the rest go through the Python loop.
    sizes = members.group_by("cluster_id").len("size")
    previous_sizes = previous.group_by(pl.col("entity_id").alias("previous_id")).len("was")
    exact = (
        overlap.join(sizes, on="cluster_id")
        .join(previous_sizes, on="previous_id")
        .filter((pl.col("shared") == pl.col("size")) & (pl.col("shared") == pl.col("was")))
        .select("cluster_id", pl.col("previous_id").alias("entity_id"))
    )
    rest = overlap.join(exact, on="cluster_id", how="anti").sort(
        ["shared", "previous_id", "cluster_id"], descending=[True, False, False]
    )
    ids: dict[str, str] = {}
    taken: set[str] = set()  # the exact clusters' previous ids overlap no cluster in `rest`
    for cluster_id, previous_id, _ in rest.iter_rows():
        if cluster_id not in ids and previous_id not in taken:
            ids[cluster_id] = previous_id
            taken.add(previous_id)
    used = taken | set(exact["entity_id"].to_list())
    carried = pl.concat([exact["entity_id"], pl.Series(list(taken), dtype=pl.String)])
    fresh = (
        members.join(exact, on="cluster_id", how="anti")
        .filter(~pl.col("cluster_id").is_in(pl.Series(list(ids), dtype=pl.String).implode()))
        .group_by("cluster_id")
        .agg(pl.col("record_key").min().alias("smallest"))
        .sort("smallest")
    )
    for cluster_id, key in fresh.iter_rows():
        candidate, n = new_entity_id(key), 1
        while candidate in used:
            n += 1
            candidate = new_entity_id(f"{key}#{n}")
        ids[cluster_id] = candidate
        used.add(candidate)
    mapping = pl.concat(
        [
            exact,
            pl.DataFrame(
                {"cluster_id": list(ids), "entity_id": list(ids.values())},
                schema={"cluster_id": pl.String, "entity_id": pl.String},
            ),
        ]
    )
    assigned = members.join(mapping, on="cluster_id", how="left", maintain_order="left").select(
        "entity_id", "record_key"
    )
    return assigned, _changes(assigned, previous, carried)


def _changes(assigned: pl.DataFrame, previous: pl.DataFrame, carried: pl.Series) -> pl.DataFrame:
    """Created, split, retired and merged rows, as joins (a national catalogue has millions)."""
    moved = (
        previous.select(pl.col("entity_id").alias("previous_id"), "record_key")
        .join(assigned, on="record_key", how="left")
        .group_by("previous_id", "entity_id")
        .len("records")
        .with_columns(pl.col("records").cast(pl.Int64))
    )
    kept = carried.implode()
    new_ids = assigned.select("entity_id").unique().filter(~pl.col("entity_id").is_in(kept))
    splits = moved.join(new_ids, on="entity_id").select(
        pl.lit("split").alias("change"),
        "entity_id",
        pl.col("previous_id").alias("related_entity_id"),
        "records",
    )
    created = new_ids.join(moved.select("entity_id").unique(), on="entity_id", how="anti").select(
        pl.lit("created").alias("change"),
        "entity_id",
        pl.lit(None, dtype=pl.String).alias("related_entity_id"),
        pl.lit(0, dtype=pl.Int64).alias("records"),
    )
    gone = (
        previous.select(pl.col("entity_id").alias("previous_id"))
        .unique()
        .filter(~pl.col("previous_id").is_in(kept))
    )
    targets = moved.filter(pl.col("entity_id").is_not_null()).join(gone, on="previous_id")
    retired = gone.join(
        targets.select("previous_id").unique(), on="previous_id", how="anti"
    ).select(
        pl.lit("retired").alias("change"),
        pl.col("previous_id").alias("entity_id"),
        pl.lit(None, dtype=pl.String).alias("related_entity_id"),
        pl.lit(0, dtype=pl.Int64).alias("records"),
    )
    merged = targets.filter(pl.col("entity_id").is_in(kept)).select(
        pl.lit("merged").alias("change"),
        pl.col("previous_id").alias("entity_id"),
        pl.col("entity_id").alias("related_entity_id"),
        "records",
    )
    order = ["entity_id", "related_entity_id"]
    return pl.concat(
        [
            pl.concat([created, splits]).sort(order, nulls_last=False),
            pl.concat([retired, merged]).sort(order, nulls_last=False),
        ]
    ).cast(CHANGE_SCHEMA)  # type: ignore[arg-type]
