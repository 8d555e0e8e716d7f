"""Stewards' decisions as labels: precision and recall where no generated truth exists."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import copy_lakehouse
from transforms.config import Environment
from transforms.delta_io import read_table
from transforms.evaluate.labels import (
    MIN_LABELS,
    caveat,
    cluster_estimate,
    label_pairs,
    truth_space_counts,
    wilson_interval,
)
from transforms.resolve.decisions import DECISION_SCHEMA, record_decision
from transforms.storage import read_parquet

START = datetime(2026, 12, 1, tzinfo=UTC)


def decisions_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """ops.er_decisions rows, one minute apart in the order given."""
    full = [
        {
            "decision_id": row["id"],
            "decision": row["decision"],
            "record_keys": row.get("keys", []),
            "entity_id": row.get("entity_id"),
            "user": "steward",
            "reason": "test",
            "decided_at": START + timedelta(minutes=i),
            "withdraws": row.get("withdraws"),
            "apart_from": row.get("apart", []),
        }
        for i, row in enumerate(rows)
    ]
    frame = pl.from_arrow(pa.Table.from_pylist(full, schema=DECISION_SCHEMA))
    assert isinstance(frame, pl.DataFrame)
    return frame


def as_set(labels: pl.DataFrame) -> set[tuple[str, str, float]]:
    return {tuple(row) for row in labels.iter_rows()}  # type: ignore[misc]


def test_label_pairs_drop_withdrawn_and_expand_splits() -> None:
    decisions = decisions_frame(
        [
            {"id": "D1", "decision": "must_link", "keys": ["b", "a"]},
            {"id": "D2", "decision": "cannot_link", "keys": ["c", "d"]},
            {"id": "D3", "decision": "split", "keys": ["f", "e"], "apart": ["g", "h"]},
            {"id": "D4", "decision": "must_link", "keys": ["x", "y"]},
            {"id": "D5", "decision": "withdraw", "withdraws": "D4"},
        ]
    )
    labels = label_pairs(decisions)
    assert labels.columns == ["unique_id_l", "unique_id_r", "clerical_match_score"]
    assert as_set(labels) == {
        ("a", "b", 1.0),
        ("c", "d", 0.0),
        ("e", "f", 1.0),
        ("e", "g", 0.0),
        ("e", "h", 0.0),
        ("f", "g", 0.0),
        ("f", "h", 0.0),
    }


def test_label_pairs_keep_contradicting_decisions_with_the_later_label() -> None:
    # constraints() would refuse this must-link; as a label it is what the steward said last
    decisions = decisions_frame(
        [
            {"id": "D1", "decision": "cannot_link", "keys": ["a", "b"]},
            {"id": "D2", "decision": "must_link", "keys": ["a", "b"]},
            {"id": "D3", "decision": "must_link", "keys": ["c", "d"]},
            {"id": "D4", "decision": "split", "keys": ["c"], "apart": ["d"]},
        ]
    )
    assert as_set(label_pairs(decisions)) == {("a", "b", 1.0), ("c", "d", 0.0)}


def test_label_pairs_of_no_decision_are_empty() -> None:
    assert label_pairs(decisions_frame([])).height == 0


def test_cluster_estimate_counts_pairs_sharing_an_entity() -> None:
    labels = pl.DataFrame(
        {
            "unique_id_l": ["a", "a", "c", "e", "g", "a"],
            "unique_id_r": ["b", "c", "d", "f", "h", "gone"],
            "clerical_match_score": [1.0, 1.0, 1.0, 0.0, 0.0, 1.0],
        }
    )
    records = pl.DataFrame(
        {
            "record_key": ["a", "b", "c", "d", "e", "f", "g", "h"],
            "entity_id": ["E1", "E1", "E2", "E2", "E3", "E3", "E4", "E5"],
        }
    )
    # a-b, c-d: true positives; a-c: false negative; e-f: false positive; g-h: true negative
    got = cluster_estimate(labels, records)
    assert (got["tp"], got["fn"], got["fp"], got["tn"]) == (2, 1, 1, 1)
    assert got["matches"] == 3 and got["non_matches"] == 2
    assert got["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert got["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert got["labels_left_out"] == 1  # a record gold no longer holds


def test_cluster_estimate_without_predicted_matches_has_no_precision() -> None:
    labels = pl.DataFrame(
        {"unique_id_l": ["a"], "unique_id_r": ["b"], "clerical_match_score": [1.0]}
    )
    records = pl.DataFrame({"record_key": ["a", "b"], "entity_id": ["E1", "E2"]})
    got = cluster_estimate(labels, records)
    assert got["precision"] is None and got["precision_95"] is None and got["recall"] == 0.0


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [(8, 10, [0.4902, 0.9433]), (10, 10, [0.7225, 1.0]), (0, 5, [0.0, 0.4345])],
)
def test_wilson_interval(successes: int, trials: int, expected: list[float]) -> None:
    assert wilson_interval(successes, trials) == pytest.approx(expected, abs=1e-4)
    assert wilson_interval(0, 0) is None


def test_truth_space_counts_at_the_threshold() -> None:
    # Splink's truth-space rows: one per distinct weight, counting labels at or above it
    table = pl.DataFrame(
        {"truth_threshold": [-8.0, -1.0, 0.0, 6.0], "tp": [3, 3, 2, 2], "fp": [2, 1, 1, 0]}
    )
    assert truth_space_counts(table, 0.0, 3, 2) == (2, 1, 1, 1)
    assert truth_space_counts(table, 0.5, 3, 2) == (2, 0, 1, 2)
    assert truth_space_counts(table, 7.0, 3, 2) == (0, 0, 3, 2)


def test_caveat_below_the_minimum() -> None:
    assert caveat(MIN_LABELS, MIN_LABELS) is None
    assert "weak" in str(caveat(MIN_LABELS, 3))
    assert "either" in str(caveat(2, 3))


def evaluate_json(args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["evaluate", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{") :])


def truth_of(env: Environment) -> pl.DataFrame:
    return (
        read_parquet(
            env.truth / "record_truth.parquet", columns=["record_key", "delivery_id", "person_id"]
        )
        .sort("delivery_id")
        .unique("record_key", keep="last")
        .select("record_key", "person_id")
    )


def test_evaluate_labels_estimates_the_model_from_decisions(
    built: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = copy_lakehouse(built, tmp_path / "lakehouse", monkeypatch)
    records = read_table(env, "gold.entity_records").join(truth_of(env), on="record_key")
    evidence = read_table(env, "gold.entity_evidence")
    person = dict(zip(records["record_key"], records["person_id"], strict=True))
    # pairs of one true person the model scores far above the threshold (0.5)
    sure = (
        evidence.filter(pl.col("same_entity") & (pl.col("match_probability") >= 0.99))
        .filter(
            pl.col("record_key_l").replace_strict(person, default=None)
            == pl.col("record_key_r").replace_strict(person, default=None)
        )
        .sort("record_key_l", "record_key_r")
    )
    matches = list(sure.select("record_key_l", "record_key_r").head(5).iter_rows())
    mislabelled_match = sure.select("record_key_l", "record_key_r").row(5)
    # pairs of records of different true persons in different entities
    rng = random.Random(3)
    keys = sorted(person)
    entity = dict(zip(records["record_key"], records["entity_id"], strict=True))
    strangers: list[tuple[str, str]] = []
    while len(strangers) < 5:
        a, b = rng.sample(keys, 2)
        if person[a] != person[b] and entity[a] != entity[b]:
            strangers.append((a, b))
    non_matches, mislabelled_non_match = strangers[:4], strangers[4]

    def decide(kind: str, pair: tuple[str, str]) -> dict[str, object]:
        return record_decision(
            env,
            kind,  # type: ignore[arg-type]
            user="steward",
            reason="test label",
            record_keys=list(pair),
            known_records=records.filter(pl.col("record_key").is_in(list(pair))),
        )

    for pair in matches:
        decide("must_link", pair)
    for pair in non_matches:
        decide("cannot_link", pair)
    decide("must_link", mislabelled_non_match)  # the steward is wrong: the model says no
    decide("cannot_link", mislabelled_match)  # the steward is wrong: the model says yes
    withdrawn = decide("cannot_link", matches[0][::-1])
    record_decision(
        env, "withdraw", user="steward", reason="mistake", withdraws=str(withdrawn["decision_id"])
    )

    out = evaluate_json(["--labels"])
    assert set(out) == {"labels"}
    labels = out["labels"]
    assert (labels["decisions"], labels["matches"], labels["non_matches"]) == (11, 6, 5)
    assert "weak" in labels["caveat"]
    model = labels["model"]
    assert model["threshold_match_probability"] == 0.5
    assert (model["matches"], model["non_matches"], model["labels_left_out"]) == (6, 5, 0)
    # the five true matches scored high; the wrong must-link is a miss, the wrong cannot-link
    # a false positive; the strangers score low
    assert (model["tp"], model["fn"], model["fp"], model["tn"]) == (5, 1, 1, 4)
    assert model["precision"] == pytest.approx(5 / 6, abs=1e-4)
    assert model["recall"] == pytest.approx(5 / 6, abs=1e-4)
    assert 0 <= model["recall_95"][0] < model["recall"] < model["recall_95"][1] <= 1
    # gold was built before the decisions, so the clusters agree with the model here
    clusters = labels["clusters"]
    assert (clusters["tp"], clusters["fn"], clusters["fp"], clusters["tn"]) == (5, 1, 1, 4)
    assert "honoured" in clusters["note"]

    both = evaluate_json([])
    assert both["entity_resolution"]["pairwise_precision"] > 0.5
    assert both["labels"]["matches"] == 6 and "unavailable" not in both


def test_evaluate_says_when_there_is_nothing_to_measure_against(
    built: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = copy_lakehouse(built, tmp_path / "lakehouse", monkeypatch)
    only_labels = evaluate_json(["--labels"])
    assert only_labels["labels"] is None
    assert "no standing steward decision" in only_labels["unavailable"]["labels"]
    (env.truth / "record_truth.parquet").unlink()
    out = evaluate_json([])
    assert out["labels"] is None and out["entity_resolution"] is None
    assert out["normalisation"] is None
    assert "no ground truth" in out["unavailable"]["entity_resolution"]
    assert "no standing steward decision" in out["unavailable"]["labels"]
