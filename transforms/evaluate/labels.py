"""Accuracy where no generated truth exists: the stewards' decisions are the labels.

A real catalogue has no `truth/`, but every standing decision in `ops.er_decisions` is a
clerical label: a must-link says its two records are one person, a cannot-link that they are
not, a split that the records it took out are one person and none of them is any of the records
left behind. Two estimates are made from them:

- **the model**: Splink's labels-based evaluation (`accuracy_analysis_from_labels_table`)
  scores every labelled pair with the approved model, as resolution scores with it, and counts
  the pairs at or above `threshold_match_probability`. That is how good the model is.
- **the clusters**: whether `gold.entity_records` puts each labelled pair in one entity. Runs
  honour the decisions, so after a run this mostly measures how well they are honoured.

Both say how many labels they rest on, with a Wilson 95% interval for precision and recall.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import polars as pl
from deltalake import DeltaTable

from transforms.config import Environment
from transforms.delta_io import TableNotFound, read_path, read_table, read_where_in
from transforms.resolve.backend import model_session, to_polars
from transforms.resolve.config import load_resolution_config
from transforms.resolve.decisions import DECISIONS_TABLE, read_decisions, standing
from transforms.resolve.features import person_features
from transforms.resolve.generic_values import without_generic
from transforms.resolve.linking import model_linker, register_by_dataset, session_unique
from transforms.resolve.registry import NoApprovedModel, StoredModel, approved_model
from transforms.resolve.scoring import scoring_model

LABEL_SCHEMA = {
    "unique_id_l": pl.String,
    "unique_id_r": pl.String,
    "clerical_match_score": pl.Float64,
}
# Below 30 labels of a class one label moves a proportion by more than 3 points, and the Wilson
# 95% interval of a proportion of 0.9 is still about 0.22 wide (0.74-0.97): an estimate resting
# on fewer is a hint, not a measurement, and the output says so.
MIN_LABELS = 30
Z_95 = 1.959964
MODEL_NOTE = (
    "Splink's labels-based evaluation: the approved model's score of each labelled pair (a pair "
    "none of its blocking rules compares counts as below the threshold); the model's accuracy, "
    "not the clusters'"
)
CLUSTERS_NOTE = (
    "whether gold.entity_records puts each labelled pair in one entity; runs honour the "
    "decisions, so this mostly measures how well they are honoured: the model estimate is the "
    "one that tells how good the model is"
)


def label_pairs(decisions: pl.DataFrame) -> pl.DataFrame:
    """The standing decisions as labelled record pairs: unique_id_l < unique_id_r, score 1 or 0.

    Must-link pairs are matches and cannot-link pairs non-matches; a split's records are matches
    among themselves and non-matches with the records it kept them apart from. Unlike
    `decisions.constraints`, a must-link that contradicts a cannot-link is kept: a label is what
    the steward said. A pair two standing decisions label differently takes the later label.
    """
    labels: dict[tuple[str, str], float] = {}
    for kind, keys, apart in (
        standing(decisions).select("decision", "record_keys", "apart_from").iter_rows()
    ):
        taken = sorted(set(keys or []))
        pairs: list[tuple[tuple[str, str], float]] = []
        if kind in ("must_link", "split"):
            pairs += [((a, b), 1.0) for a, b in itertools.combinations(taken, 2)]
        if kind == "cannot_link":
            pairs += [((a, b), 0.0) for a, b in itertools.combinations(taken, 2)]
        if kind == "split":
            pairs += [
                (_oriented(a, b), 0.0)
                for a, b in itertools.product(taken, sorted(set(apart or [])))
                if a != b
            ]
        for pair, score in pairs:
            labels.pop(pair, None)  # re-inserted last: the later decision's label
            labels[pair] = score
    rows = [(a, b, score) for (a, b), score in labels.items()]
    return pl.DataFrame(rows, schema=LABEL_SCHEMA, orient="row").sort("unique_id_l", "unique_id_r")


def _oriented(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> list[float] | None:
    """The Wilson score interval of a proportion (None without trials)."""
    if trials == 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


def confusion_summary(tp: int, fp: int, fn: int, tn: int) -> dict[str, Any]:
    """Counts, precision and recall (null when undefined) with Wilson 95% intervals, and F1."""
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    return {
        "matches": tp + fn,
        "non_matches": fp + tn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": None if precision is None else round(precision, 4),
        "precision_95": wilson_interval(tp, tp + fp),
        "recall": None if recall is None else round(recall, 4),
        "recall_95": wilson_interval(tp, tp + fn),
        "f1": None if f1 is None else round(f1, 4),
    }


def cluster_estimate(labels: pl.DataFrame, entity_records: pl.DataFrame) -> dict[str, Any]:
    """Precision and recall of the clusters on the labelled pairs.

    A labelled match is a true positive when both records share an entity, a false negative
    when not; a labelled non-match sharing an entity is a false positive. Pairs with a record
    gold no longer holds (destroyed) are left out and counted.
    """
    entities = entity_records.select("record_key", "entity_id")
    joined = labels.join(
        entities.rename({"record_key": "unique_id_l", "entity_id": "entity_l"}), on="unique_id_l"
    ).join(
        entities.rename({"record_key": "unique_id_r", "entity_id": "entity_r"}), on="unique_id_r"
    )
    match = pl.col("clerical_match_score") >= 0.5
    same = pl.col("entity_l") == pl.col("entity_r")
    counts = joined.select(
        (match & same).sum().alias("tp"),
        (~match & same).sum().alias("fp"),
        (match & ~same).sum().alias("fn"),
        (~match & ~same).sum().alias("tn"),
    ).row(0, named=True)
    return {
        **confusion_summary(*(int(counts[k]) for k in ("tp", "fp", "fn", "tn"))),
        "labels_left_out": labels.height - joined.height,
        "note": CLUSTERS_NOTE,
    }


def truth_space_counts(
    truth_space: pl.DataFrame, threshold_weight: float, positives: int, negatives: int
) -> tuple[int, int, int, int]:
    """TP, FP, FN, TN at `threshold_weight` from Splink's truth-space table.

    The table has one row per distinct match weight among the labelled pairs, counting the pairs
    at or above it; the first row at or above the threshold counts what the threshold does.
    Without one every pair scored below it.
    """
    above = truth_space.filter(pl.col("truth_threshold") >= threshold_weight).sort(
        "truth_threshold"
    )
    if above.height == 0:
        return 0, 0, positives, negatives
    tp, fp = int(above["tp"][0]), int(above["fp"][0])
    return tp, fp, positives - tp, negatives - fp


def labelled_features(env: Environment, keys: list[str]) -> pl.DataFrame:
    """The Splink feature rows of `keys`, built from silver as resolution builds them (the
    generic values the last run listed in gold.generic_values left out)."""

    def rows(table: str) -> pl.DataFrame:
        dt = DeltaTable(str(env.table_path(table)))
        frame = pl.from_arrow(
            read_where_in(dt, [f.name for f in dt.schema().fields], "record_key", keys)
        )
        assert isinstance(frame, pl.DataFrame)
        return frame

    parts = [
        rows(f"silver.{t}") for t in ("addresses", "comms_identifiers", "document_identifiers")
    ]
    generic = read_path(env.table_path("gold.generic_values"))
    if generic is not None:
        parts = list(without_generic(*parts, generic))
    return person_features(rows("silver.person_records"), *parts)


def model_estimate(
    env: Environment, labels: pl.DataFrame, model: StoredModel, threshold: float
) -> dict[str, Any]:
    """Splink's labels-based evaluation of `model` (as resolution scores with it) at `threshold`."""
    keys = sorted(set(labels["unique_id_l"]) | set(labels["unique_id_r"]))
    features = labelled_features(env, keys)
    datasets = features.select(pl.col("unique_id"), pl.col("source_dataset"))
    table = (
        labels.join(datasets.rename({"unique_id": "unique_id_l"}), on="unique_id_l")
        .rename({"source_dataset": "source_dataset_l"})
        .join(datasets.rename({"unique_id": "unique_id_r"}), on="unique_id_r")
        .rename({"source_dataset": "source_dataset_r"})
        .select(
            "source_dataset_l", "unique_id_l", "source_dataset_r", "unique_id_r",
            "clerical_match_score",
        )
    )  # fmt: skip
    positives = int((table["clerical_match_score"] >= 0.5).sum())
    negatives = table.height - positives
    counts = (0, 0, 0, 0)
    if table.height:
        scoring = scoring_model(model)
        with model_session(env, scoring) as db:
            linker = model_linker(db, register_by_dataset(db, features, prefix="labels_"), scoring)
            registered = linker.table_management.register_labels_table(
                db.register(table.to_arrow(), table_name=session_unique("labels"))
            )
            truth_space = linker.evaluation.accuracy_analysis_from_labels_table(
                registered,
                threshold_match_probability=0.5,  # splits clerical scores (1 or 0), not the model's
                match_weight_round_to_nearest=None,  # type: ignore[arg-type]
                output_type="table",
            )
            counts = truth_space_counts(
                to_polars(truth_space), _weight(threshold), positives, negatives
            )
    return {
        "model_version": model.version,
        "threshold_match_probability": threshold,
        **confusion_summary(*counts),
        "labels_left_out": labels.height - table.height,
        "note": MODEL_NOTE,
    }


def _weight(probability: float) -> float:
    return math.log2(probability / (1 - probability))


def caveat(matches: int, non_matches: int) -> str | None:
    """One line when either class has fewer than MIN_LABELS labels."""
    if min(matches, non_matches) >= MIN_LABELS:
        return None
    return (
        f"weak estimate: {matches} labelled matches and {non_matches} non-matches, fewer than "
        f"{MIN_LABELS} of {'either' if max(matches, non_matches) < MIN_LABELS else 'one'}; "
        "read the 95% intervals"
    )


def labels_evaluation(env: Environment) -> dict[str, Any] | None:
    """Both estimates from the standing decisions (None when there are none)."""
    decisions = standing(read_decisions(env))
    labels = label_pairs(decisions)
    if labels.height == 0:
        return None
    threshold = load_resolution_config(env.catalogue_dir).threshold_match_probability
    matches = int((labels["clerical_match_score"] >= 0.5).sum())
    non_matches = labels.height - matches
    return {
        "decisions": decisions.height,
        "matches": matches,
        "non_matches": non_matches,
        "min_labels": MIN_LABELS,
        "caveat": caveat(matches, non_matches),
        "model": model_estimate(env, labels, approved_model(env), threshold),
        "clusters": cluster_estimate(labels, read_table(env, "gold.entity_records")),
    }


def labels_or_reason(env: Environment) -> tuple[dict[str, Any] | None, str | None]:
    """`labels_evaluation`, or None and why there is no estimate."""
    try:
        estimate = labels_evaluation(env)
    except (TableNotFound, NoApprovedModel) as exc:
        return None, str(exc)
    if estimate is None:
        return None, f"no standing steward decision in {DECISIONS_TABLE}"
    return estimate, None


__all__ = [
    "MIN_LABELS",
    "caveat",
    "cluster_estimate",
    "confusion_summary",
    "label_pairs",
    "labelled_features",
    "labels_evaluation",
    "labels_or_reason",
    "model_estimate",
    "truth_space_counts",
    "wilson_interval",
]
