"""What a user may see of a search result: entities and links within their clearance.

The rank comes from the contract (`rank_expr`), the one partner cuts use, so a missing or unknown
classification ranks above every clearance here too.
"""

from __future__ import annotations

import polars as pl

from transforms.config import Environment
from transforms.contract import CLASSIFICATION_RANK, rank_expr
from transforms.delta_io import read_table
from transforms.resolve.search import in_result_order, linked_entities


def restrict(
    results: pl.DataFrame, clearance: str, entities: pl.DataFrame, links: pl.DataFrame
) -> tuple[pl.DataFrame, int]:
    """What a user cleared to `clearance` may see, and how many matched entities were withheld.

    Matches with an entity classified above the clearance are dropped (a subject left with
    none appears once with a null entity_id); linked entities are kept only when both the link
    and the linked entity are within the clearance.
    """
    limit = CLASSIFICATION_RANK[clearance]
    above = results.filter(
        pl.col("entity_id").is_not_null() & (rank_expr("classification") > limit)
    )
    withheld = above["entity_id"].n_unique()
    visible_entities = entities.filter(rank_expr("classification") <= limit).select("entity_id")
    visible_links = (
        links.filter(rank_expr("classification") <= limit)
        .join(visible_entities, left_on="entity_id_a", right_on="entity_id", how="semi")
        .join(visible_entities, left_on="entity_id_b", right_on="entity_id", how="semi")
    )
    kept = results.filter(pl.col("entity_id").is_null() | (rank_expr("classification") <= limit))
    kept = (
        kept.drop("linked_entities")
        .join(linked_entities(visible_links), on="entity_id", how="left")
        .with_columns(
            pl.when(pl.col("entity_id").is_not_null())
            .then(pl.col("linked_entities").fill_null(pl.lit([], dtype=pl.List(pl.String))))
            .alias("linked_entities")
        )
    )
    emptied = (
        results.select("subject_id")
        .unique(maintain_order=True)
        .join(kept.select("subject_id"), on="subject_id", how="anti")
        .with_columns(pl.lit(None, dtype=pl.String).alias("entity_id"))
    )
    order = results.select("subject_id").unique(maintain_order=True).with_row_index("_order")
    visible = in_result_order(
        pl.concat([kept, emptied], how="diagonal_relaxed").join(order, on="subject_id")
    )
    return visible, withheld


def restrict_for(
    env: Environment, results: pl.DataFrame, clearance: str
) -> tuple[pl.DataFrame, int]:
    """`restrict` against the current gold tables."""
    return restrict(
        results, clearance, read_table(env, "gold.entities"), read_table(env, "gold.entity_links")
    )
