"""The stewards' review queue: the merges and non-merges closest to the decision boundary.

Both kinds are measured on one scale, the evidence in bits (log2 odds) past the clustering's
threshold: a merge's evidence between the two clusters it joined (`ops.er_state`
merge_evidence, always above 0), a non-merge's pair weight less the threshold's weight (pairs
of two entities in `gold.entity_evidence`). Uncertainty is `1 - |2p - 1|` of the probability
those bits imply: 1 on the boundary, 0 far from it. Pairs a standing decision already settles
are left out, and so is anything above the steward's clearance.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from deltalake import DeltaTable

from transforms.config import Environment
from transforms.resolve.clustering import threshold_weight
from transforms.resolve.decisions import constraints, read_decisions
from transforms.resolve.explain import EVIDENCE, RECORDS, STATE, with_match_keys

QUEUE_SCHEMA = {
    "kind": pl.String,
    "record_key_l": pl.String,
    "record_key_r": pl.String,
    "entity_id_l": pl.String,
    "entity_id_r": pl.String,
    "margin": pl.Float64,
    "uncertainty": pl.Float64,
    "match_key": pl.String,
    "match_weight": pl.Float64,
}


def uncertainty(margin: pl.Expr) -> pl.Expr:
    """1 on the decision boundary, towards 0 away from it (margin in bits)."""
    p = 1.0 / (1.0 + pl.lit(2.0).pow(-margin))
    return 1.0 - (2.0 * p - 1.0).abs()


def _table(env: Environment, name: str, columns: list[str] | None = None) -> pl.DataFrame:
    path = env.table_path(name)
    if not DeltaTable.is_deltatable(str(path)):
        return pl.DataFrame()
    table = DeltaTable(str(path))
    present = [c for c in columns or [] if c in table.schema().to_arrow().names] or None
    frame = pl.from_arrow(table.to_pyarrow_table(columns=present))
    assert isinstance(frame, pl.DataFrame)
    return frame


def review_queue(
    env: Environment, threshold: float, limit: int, may_see: Callable[[str], bool]
) -> pl.DataFrame:
    """The `limit` most uncertain merges and non-merges, most uncertain first (QUEUE_SCHEMA)."""
    records = _table(env, RECORDS, ["record_key", "entity_id", "classification"])
    evidence = _table(env, EVIDENCE)
    if records.height == 0 or evidence.height == 0:
        return pl.DataFrame(schema=QUEUE_SCHEMA)
    levels = [c for c in records["classification"].unique().to_list() if c and may_see(c)]
    visible = records.filter(pl.col("classification").is_in(levels)).select(
        "record_key", "entity_id"
    )
    keyed = _keyed(evidence)
    offset = threshold_weight(threshold)
    apart = keyed.filter(~pl.col("same_entity").fill_null(False)).select(
        pl.lit("non-merge").alias("kind"),
        "record_key_l",
        "record_key_r",
        (pl.col("match_weight") - offset).alias("margin"),
        "match_key",
        "match_weight",
    )
    state = _table(env, STATE, ["record_key", "merge_into", "merge_evidence", "merge_forced"])
    columns = ("kind", "record_key_l", "record_key_r", "margin", "match_key", "match_weight")
    merges = pl.DataFrame(schema={k: QUEUE_SCHEMA[k] for k in columns})
    if "merge_evidence" in state.columns:
        made = state.filter(
            pl.col("merge_evidence").is_not_null() & ~pl.col("merge_forced").fill_null(False)
        ).select(
            pl.min_horizontal("record_key", "merge_into").alias("record_key_l"),
            pl.max_horizontal("record_key", "merge_into").alias("record_key_r"),
            pl.col("merge_evidence").alias("margin"),
        )
        merges = made.join(
            keyed.select("record_key_l", "record_key_r", "match_key", "match_weight"),
            on=["record_key_l", "record_key_r"],
            how="left",
        ).select(pl.lit("merge").alias("kind"), *columns[1:])
    queue = pl.concat([merges, apart], how="vertical_relaxed")
    decided = constraints(read_decisions(env))
    settled = (
        pl.concat([decided.must_link, decided.cannot_link])
        .select("unique_id_l", "unique_id_r")
        .rename({"unique_id_l": "record_key_l", "unique_id_r": "record_key_r"})
    )
    queue = queue.join(settled, on=["record_key_l", "record_key_r"], how="anti")
    ids = visible.rename({"record_key": "record_key_l", "entity_id": "entity_id_l"})
    queue = queue.join(ids, on="record_key_l").join(
        visible.rename({"record_key": "record_key_r", "entity_id": "entity_id_r"}),
        on="record_key_r",
    )
    return (
        queue.with_columns(uncertainty(pl.col("margin")).alias("uncertainty"))
        .sort(["uncertainty", "record_key_l", "record_key_r"], descending=[True, False, False])
        .head(limit)
        .select(list(QUEUE_SCHEMA))
        .cast(QUEUE_SCHEMA)  # type: ignore[arg-type]
    )


def _keyed(evidence: pl.DataFrame) -> pl.DataFrame:
    """Evidence pairs with their match key, weight and whether they share an entity."""
    keys = with_match_keys(evidence)
    same = evidence.select("record_key_l", "record_key_r", "same_entity")
    return keys.join(same, on=["record_key_l", "record_key_r"], how="left")
