"""Score record pairs with the approved model, fully or incrementally.

Scores depend only on the pair and the model (term frequencies are frozen with the model), so
scoring just the new or changed records against the rest, plus the unchanged pairs kept from
the last run, yields exactly the edges a full re-score would: both give the same clusters (clustering.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from transforms.config import Environment
from transforms.resolve.backend import model_api, to_polars
from transforms.resolve.linking import model_linker, register_by_dataset
from transforms.resolve.registry import StoredModel

EDGE_KEYS = ["unique_id_l", "unique_id_r"]


@dataclass(frozen=True)
class Scored:
    edges: pl.DataFrame  # one row per scored pair at or above the evidence threshold
    rescored_records: int
    mode: str  # full | incremental


def _edges(frame: pl.DataFrame) -> pl.DataFrame:
    """Keep the pair, its probability and each comparison's evidence, oriented l < r."""
    evidence = [c for c in frame.columns if c.startswith(("mw_", "gamma_"))]
    frame = frame.select(
        "unique_id_l",
        "unique_id_r",
        "source_dataset_l",
        "source_dataset_r",
        "match_probability",
        "match_weight",
        *evidence,
    )
    swap = pl.col("unique_id_l") > pl.col("unique_id_r")
    return (
        frame.with_columns(
            pl.when(swap)
            .then(pl.col("unique_id_r"))
            .otherwise(pl.col("unique_id_l"))
            .alias("unique_id_l"),
            pl.when(swap)
            .then(pl.col("unique_id_l"))
            .otherwise(pl.col("unique_id_r"))
            .alias("unique_id_r"),
            pl.when(swap)
            .then(pl.col("source_dataset_r"))
            .otherwise(pl.col("source_dataset_l"))
            .alias("source_dataset_l"),
            pl.when(swap)
            .then(pl.col("source_dataset_l"))
            .otherwise(pl.col("source_dataset_r"))
            .alias("source_dataset_r"),
        )
        .unique(EDGE_KEYS, keep="first")
        .sort(EDGE_KEYS)
    )


def feature_hashes(features: pl.DataFrame) -> pl.DataFrame:
    """A fingerprint of each record's features: a change means the record must be re-scored."""
    return features.select(
        "unique_id",
        pl.struct(pl.exclude("unique_id")).hash(seed=0).cast(pl.String).alias("feature_hash"),
    )


def score_all(
    env: Environment, features: pl.DataFrame, model: StoredModel, threshold: float
) -> Scored:
    """Full re-score: every blocked pair of every record."""
    db = model_api(env, model)
    linker = model_linker(db, register_by_dataset(db, features), model)
    scored = linker.inference.predict(threshold_match_probability=threshold)
    return Scored(_edges(to_polars(scored)), features.height, "full")


def score_incremental(
    env: Environment,
    features: pl.DataFrame,
    dirty: set[str],
    previous_edges: pl.DataFrame,
    model: StoredModel,
    threshold: float,
) -> Scored:
    """Score only new or changed records (against everything) and keep the other pairs."""
    current = set(features["unique_id"].to_list())
    kept = previous_edges.filter(
        ~pl.col("unique_id_l").is_in(list(dirty))
        & ~pl.col("unique_id_r").is_in(list(dirty))
        & pl.col("unique_id_l").is_in(list(current))
        & pl.col("unique_id_r").is_in(list(current))
    )
    if not dirty:
        return Scored(kept, 0, "incremental")
    new = features.filter(pl.col("unique_id").is_in(list(dirty)))
    old = features.filter(~pl.col("unique_id").is_in(list(dirty)))
    db = model_api(env, model)
    new_tables = register_by_dataset(db, new, prefix="new_")
    old_tables = register_by_dataset(db, old, prefix="old_")
    linker = model_linker(db, new_tables + old_tables, model)
    parts = [
        to_polars(
            linker.inference.predict_within(new_tables, threshold_match_probability=threshold)
        )
    ]
    if old_tables:
        parts.append(
            to_polars(
                linker.inference.predict_between(
                    new_tables, old_tables, threshold_match_probability=threshold
                )
            )
        )
    fresh = _edges(pl.concat([_edges(p) for p in parts], how="diagonal_relaxed"))
    edges = (
        pl.concat([kept, fresh], how="diagonal_relaxed")
        .unique(EDGE_KEYS, keep="last")
        .sort(EDGE_KEYS)
    )
    return Scored(edges, len(dirty), "incremental")
