"""What approving a candidate model would change: both models cluster current silver, compared.

Nothing is published or stored: each model scores every blocked pair of the current records
(`score_all`), the pairs are clustered as resolution does (`constrained_clusters`), and the two
partitions of record keys are compared. Entity ids follow `stable_ids`: the approved clusters
keep the ids gold gave their records, the candidate's inherit those by overlap, so a record
"moves" exactly when approving the candidate would change its entity id.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from transforms.catalogue import load_catalogue
from transforms.config import Environment
from transforms.delta_io import read_path
from transforms.resolve.clustering import constrained_clusters
from transforms.resolve.config import ResolutionConfig
from transforms.resolve.decisions import load_constraints
from transforms.resolve.pipeline import silver_features
from transforms.resolve.registry import StoredModel, approved_model, stored_model
from transforms.resolve.scoring import score_all
from transforms.resolve.stable_ids import assign_entity_ids

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class ModelDiff:
    """Approved model against candidate on the same records.

    Every approved entity is exactly one of:
    - `unchanged`: the candidate puts exactly its records, and no others, in one entity;
    - `split`: the candidate spreads its records over two or more entities (whether or not
      some of them also join records of other entities);
    - `merged`: the candidate keeps its records together but joins them with records of
      another approved entity.

    `records_moved`: records whose entity id would change on approval. `pairwise_agreement`:
    of the record pairs that either model puts in one entity, the share both do (Jaccard on
    same-entity pairs; 1.0 when neither model links any pair). Unlike a Rand index it is not
    inflated by the vast number of pairs both models keep apart.
    """

    candidate_version: int
    approved_version: int
    records: int
    approved_entities: int
    candidate_entities: int
    unchanged: int
    merged: int
    split: int
    records_moved: int
    pairs_approved: int
    pairs_candidate: int
    pairs_agreed: int
    pairwise_agreement: float
    # change, entity_id (approved), records (its keys), candidate (its records' entities there)
    sample: pl.DataFrame = field(repr=False)

    def to_dict(self, *, sample: bool = False) -> dict[str, Any]:
        """The figures as plain scalars (with the sample's rows when asked)."""
        figures = {k: v for k, v in asdict(self).items() if k != "sample"}
        if sample:
            figures["sample"] = self.sample.to_dicts()
        return figures

    def as_frame(self) -> pl.DataFrame:
        """The figures as a two-column table (figure, value) for printing."""
        figures = self.to_dict()
        return pl.DataFrame(
            {
                "figure": list(figures),
                "value": [f"{v:.4f}" if isinstance(v, float) else str(v) for v in figures.values()],
            }
        )


def model_clusters(
    env: Environment, config: ResolutionConfig, features: pl.DataFrame, model: StoredModel
) -> pl.DataFrame:
    """unique_id, cluster_id: `model`'s clusters of `features`, as resolution would form them."""
    scored = score_all(env, features, model, config.evidence_threshold)
    duplicate_free = [
        d.name for d in load_catalogue(env.catalogue_dir).values() if d.duplicate_free
    ]
    decided = load_constraints(env)  # stewards' decisions bind every model alike
    clusters = constrained_clusters(
        features,
        scored.edges,
        config.threshold_match_probability,
        duplicate_free,
        cannot_link=decided.cannot_link,
        must_link=decided.must_link,
    )
    return clusters.select("unique_id", "cluster_id")


def _pairs(sizes: pl.Expr) -> pl.Expr:
    return (sizes * (sizes - 1) // 2).sum()


def compare_partitions(
    approved: pl.DataFrame, candidate: pl.DataFrame, sample_size: int = SAMPLE_SIZE
) -> dict[str, Any]:
    """Figures and sample from two partitions (record_key, entity_id) of the same records."""
    both = approved.rename({"entity_id": "approved_id"}).join(
        candidate.rename({"entity_id": "candidate_id"}), on="record_key", how="inner"
    )
    if both.height != approved.height or both.height != candidate.height:
        raise ValueError("the partitions compared must cover the same records")
    spread = both.group_by("approved_id").agg(
        pl.col("candidate_id").n_unique().alias("candidates"),
        pl.col("candidate_id").first().alias("first_candidate"),
    )
    gathered = both.group_by("candidate_id").agg(pl.col("approved_id").n_unique().alias("sources"))
    kinds = (
        spread.join(gathered, left_on="first_candidate", right_on="candidate_id")
        .with_columns(
            pl.when(pl.col("candidates") > 1)
            .then(pl.lit("split"))
            .when(pl.col("sources") > 1)
            .then(pl.lit("merged"))
            .otherwise(pl.lit("unchanged"))
            .alias("change")
        )
        .select("approved_id", "change")
    )
    counts = dict(kinds.group_by("change").len().iter_rows())
    pairs_approved = both.group_by("approved_id").len().select(_pairs(pl.col("len"))).item()
    pairs_candidate = both.group_by("candidate_id").len().select(_pairs(pl.col("len"))).item()
    pairs_agreed = (
        both.group_by("approved_id", "candidate_id").len().select(_pairs(pl.col("len"))).item()
    )
    union = pairs_approved + pairs_candidate - pairs_agreed
    return {
        "records": both.height,
        "approved_entities": spread.height,
        "candidate_entities": gathered.height,
        "unchanged": int(counts.get("unchanged", 0)),
        "merged": int(counts.get("merged", 0)),
        "split": int(counts.get("split", 0)),
        "records_moved": int((both["approved_id"] != both["candidate_id"]).sum()),
        "pairs_approved": int(pairs_approved or 0),
        "pairs_candidate": int(pairs_candidate or 0),
        "pairs_agreed": int(pairs_agreed or 0),
        "pairwise_agreement": float(pairs_agreed / union) if union else 1.0,
        "sample": _sample(both, kinds, sample_size),
    }


def _sample(both: pl.DataFrame, kinds: pl.DataFrame, size: int) -> pl.DataFrame:
    """Up to `size` changed approved entities, merges and splits alike, smallest ids first."""
    changed = kinds.filter(pl.col("change") != "unchanged").sort("change", "approved_id")
    half = max(size // 2, 1)
    picked = pl.concat(
        [
            changed.filter(pl.col("change") == "merged").head(half),
            changed.filter(pl.col("change") == "split"),
        ]
    ).head(size)
    picked = pl.concat([picked, changed.join(picked, on="approved_id", how="anti")]).head(size)
    if picked.height == 0:
        return pl.DataFrame(
            schema={
                "change": pl.String,
                "entity_id": pl.String,
                "records": pl.String,
                "candidate": pl.String,
            }
        )
    members = both.sort("record_key")
    approved_keys = members.group_by("approved_id").agg(
        pl.col("record_key").str.join(", ").alias("records")
    )
    touched = (
        members.join(picked.select("approved_id"), on="approved_id")
        .select("approved_id", "candidate_id")
        .unique()
    )
    groups = (
        members.group_by("candidate_id")
        .agg(pl.col("record_key").str.join(", ").alias("keys"))
        .with_columns((pl.col("candidate_id") + ": " + pl.col("keys")).alias("group"))
    )
    candidate = (
        touched.join(groups, on="candidate_id")
        .sort("approved_id", "candidate_id")
        .group_by("approved_id", maintain_order=True)
        .agg(pl.col("group").str.join(" | ").alias("candidate"))
    )
    return (
        picked.join(approved_keys, on="approved_id")
        .join(candidate, on="approved_id")
        .sort("change", "approved_id")
        .select("change", pl.col("approved_id").alias("entity_id"), "records", "candidate")
    )


def diff_models(
    env: Environment,
    config: ResolutionConfig,
    candidate_version: int,
    *,
    features: pl.DataFrame | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> ModelDiff:
    """Compare candidate `candidate_version` with the approved model on current silver.

    `features` are the current silver features when the caller has them already. Raises
    LookupError for an unknown version and NoApprovedModel when none is approved.
    """
    candidate = stored_model(env, candidate_version)
    approved = approved_model(env)
    if features is None:
        features, _ = silver_features(env)
    gold = read_path(env.table_path("gold.entity_records"), ["entity_id", "record_key"])
    base, _ = assign_entity_ids(model_clusters(env, config, features, approved), gold)
    other, _ = assign_entity_ids(model_clusters(env, config, features, candidate), base)
    figures = compare_partitions(base, other, sample_size)
    return ModelDiff(
        candidate_version=candidate.version, approved_version=approved.version, **figures
    )
