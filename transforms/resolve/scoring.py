"""Score record pairs with the approved model, fully or incrementally.

Scores depend only on the pair and the model (term frequencies are frozen with the model), so
scoring just the new or changed records against the rest, plus the unchanged pairs kept from
the last run, yields exactly the edges a full re-score would: both give the same clusters (clustering.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from transforms.config import Environment
from transforms.resolve.backend import model_session, to_polars
from transforms.resolve.clustering import COMPONENT, candidate_components, pairs_inside
from transforms.resolve.config import load_resolution_config
from transforms.resolve.linking import model_linker, register_by_dataset
from transforms.resolve.registry import StoredModel

EDGE_KEYS = ["unique_id_l", "unique_id_r"]
# Scoring never lets a level be rarer among matches than this. Expectation maximisation sets
# m to (near) zero for a level no matched pair of its sample showed (documents that differ,
# a street spelt differently), which makes that level a veto of 50 to 150 bits on data whose
# errors the sample lacked. At this floor a level can count at most log2(1 / 0.005) = 7.6 bits
# against a match, about what a disagreeing date of birth weighs when it is well estimated.
M_PROBABILITY_FLOOR = 0.005


@dataclass(frozen=True)
class _Floored:
    """A stored model scored with its m probabilities raised to M_PROBABILITY_FLOOR."""

    model: StoredModel

    @property
    def version(self) -> int:
        return self.model.version

    @property
    def blocking_rules(self) -> list[str]:
        return self.model.blocking_rules

    def term_frequencies(self, column: str) -> pl.DataFrame:
        return self.model.term_frequencies(column)

    def settings(self) -> dict[str, object]:
        return floored_settings(self.model.settings())


def floored_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Model settings with every non-null level's m probability at least the floor."""
    out = copy.deepcopy(settings)
    for comparison in out.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            m = level.get("m_probability")
            # a string is Splink's "level not observed" (scored as m = 1e-6)
            if isinstance(m, str) or (isinstance(m, int | float) and m < M_PROBABILITY_FLOOR):
                level["m_probability"] = M_PROBABILITY_FLOOR
    return out


def scoring_model(model: StoredModel) -> Any:
    """The model as resolution scores with it (m probabilities floored)."""
    return model if isinstance(model, _Floored) else _Floored(model)


@dataclass(frozen=True)
class Scored:
    edges: pl.DataFrame  # one row per scored pair at or above the evidence threshold
    rescored_records: int
    mode: str  # full | incremental


EDGE_COLUMNS = (
    "unique_id_l",
    "unique_id_r",
    "source_dataset_l",
    "source_dataset_r",
    "match_probability",
    "match_weight",
)


def is_edge_column(column: str) -> bool:
    """What resolution keeps of Splink's predictions (`_edges`): the pair and its evidence."""
    return column in EDGE_COLUMNS or column.startswith(("mw_", "gamma_"))


def _edges(frame: pl.DataFrame) -> pl.DataFrame:
    """Keep the pair, its probability and each comparison's evidence, oriented l < r."""
    evidence = [c for c in frame.columns if c.startswith(("mw_", "gamma_"))]
    frame = frame.select(*EDGE_COLUMNS, *evidence)
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
    model = scoring_model(model)
    with model_session(env, model) as db:
        linker = model_linker(db, register_by_dataset(db, features), model)
        scored = linker.inference.predict(threshold_match_probability=threshold)
        edges = _edges(to_polars(scored, is_edge_column))
    return Scored(with_component_pairs(env, features, edges, model), features.height, "full")


def with_component_pairs(
    env: Environment, features: pl.DataFrame, edges: pl.DataFrame, model: StoredModel
) -> pl.DataFrame:
    """`edges` and every other pair inside a candidate component (clustering.py), scored.

    Clustering weighs every pair of a component; pairs blocking never produced, or scored
    below the evidence threshold, are added here (at any probability), so clustering these
    edges needs no model. Resolution stores only those at or above the evidence threshold.
    """
    threshold = load_resolution_config(env.catalogue_dir).threshold_match_probability
    components = candidate_components(features, edges, threshold)
    known = edges.select(EDGE_KEYS)
    lacking = pairs_inside(components).join(known, on=EDGE_KEYS, how="anti")[COMPONENT].unique()
    if lacking.is_empty():
        return edges
    records = features.join(
        components.filter(pl.col(COMPONENT).is_in(lacking.implode())).select(
            "unique_id", COMPONENT
        ),
        on="unique_id",
    )
    added = component_scorer(env, model)(records).join(known, on=EDGE_KEYS, how="anti")
    return pl.concat([edges, added], how="diagonal_relaxed").sort(EDGE_KEYS)


def score_incremental(
    env: Environment,
    features: pl.DataFrame,
    dirty: set[str],
    previous_edges: pl.DataFrame,
    model: StoredModel,
    threshold: float,
) -> Scored:
    """Score only new or changed records (against everything) and keep the other pairs."""
    # Semi-joins on a frame of the unchanged records, not `is_in` over Python lists of every
    # record key (5 s at 1M people for a handful of dirty records).
    is_dirty = pl.col("unique_id").is_in(pl.Series(sorted(dirty), dtype=pl.String).implode())
    unchanged = features.select("unique_id").filter(~is_dirty)
    kept = previous_edges.join(
        unchanged.rename({"unique_id": "unique_id_l"}),
        on="unique_id_l",
        how="semi",
        maintain_order="left",
    ).join(
        unchanged.rename({"unique_id": "unique_id_r"}),
        on="unique_id_r",
        how="semi",
        maintain_order="left",
    )
    if not dirty:
        return Scored(kept, 0, "incremental")
    model = scoring_model(model)
    new = features.filter(is_dirty)
    old = features.filter(~is_dirty)
    with model_session(env, model) as db:
        new_tables = register_by_dataset(db, new, prefix="new_")
        old_tables = register_by_dataset(db, old, prefix="old_")
        linker = model_linker(db, new_tables + old_tables, model)
        parts = [
            to_polars(
                linker.inference.predict_within(new_tables, threshold_match_probability=threshold),
                is_edge_column,
            )
        ]
        if old_tables:
            parts.append(
                to_polars(
                    linker.inference.predict_between(
                        new_tables, old_tables, threshold_match_probability=threshold
                    ),
                    is_edge_column,
                )
            )
    fresh = _edges(pl.concat([_edges(p) for p in parts], how="diagonal_relaxed"))
    edges = (
        pl.concat([kept, fresh], how="diagonal_relaxed")
        .unique(EDGE_KEYS, keep="last")
        .sort(EDGE_KEYS)
    )
    return Scored(edges, len(dirty), "incremental")


def component_scorer(
    env: Environment, model: StoredModel
) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """Scores every pair of records sharing a candidate component, with `model`.

    The pairs are generated by one blocking rule, `l.<component> = r.<component>`, in place of
    the model's own (Splink's predict_within), so a pair no blocking rule found is scored too.
    Scores depend only on the pair and the model, so this works alike on a full or an
    incremental run.
    """
    model = scoring_model(model)

    def score(records: pl.DataFrame) -> pl.DataFrame:
        if records.height < 2:
            return pl.DataFrame(
                schema={
                    "unique_id_l": pl.String,
                    "unique_id_r": pl.String,
                    "match_weight": pl.Float64,
                    "match_probability": pl.Float64,
                }
            )
        with model_session(env, model) as db:
            tables = register_by_dataset(db, records, prefix="component_")
            linker = model_linker(db, tables, model)
            scored = linker.inference.predict_within(
                tables,
                blocking_rules_to_generate_predictions=[f"l.{COMPONENT} = r.{COMPONENT}"],
                warning_mode="never",
            )
            return _edges(to_polars(scored, is_edge_column))

    return score
