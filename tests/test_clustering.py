"""Clustering on the model's evidence: every pair in a component scored, declared constraints."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest

from transforms.resolve.clustering import (
    COMPONENT,
    average_linkage,
    candidate_components,
    constrained_clusters,
    threshold_weight,
)


def _features(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["unique_id", "source_dataset"], orient="row")


def _edges(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    """Pairs with their match weight (and the probability it implies)."""
    return pl.DataFrame(
        [(left, right, 1 / (1 + 2**-weight), weight) for left, right, weight in rows],
        schema=["unique_id_l", "unique_id_r", "match_probability", "match_weight"],
        orient="row",
    )


def _groups(clusters: pl.DataFrame) -> set[frozenset[str]]:
    grouped = clusters.group_by("cluster_id").agg("unique_id")
    return {frozenset(ids) for ids in grouped["unique_id"].to_list()}


class Model:
    """A stand-in for the approved model: known weights for the pairs blocking never produced."""

    def __init__(self, weights: dict[frozenset[str], float]) -> None:
        self.weights = weights
        self.asked: list[set[str]] = []

    def __call__(self, records: pl.DataFrame) -> pl.DataFrame:
        assert COMPONENT in records.columns
        self.asked.append(set(records["unique_id"]))
        rows = []
        for _, group in records.group_by(COMPONENT):
            ids = sorted(group["unique_id"])
            for i, left in enumerate(ids):
                for right in ids[i + 1 :]:
                    rows.append((left, right, self.weights[frozenset((left, right))]))
        return _edges(rows)


def test_a_shared_landline_does_not_chain_father_and_son() -> None:
    """The directory entry (an initial, the household's landline and address) links to both;
    the pairs blocking never produced, scored by the model, show the father and son disagree."""
    features = _features(
        [
            ("dad_sub", "subscriber_records"),
            ("son_sub", "subscriber_records"),
            ("dir", "telephone_directory"),
            ("dad_car", "vehicle_keepers"),
        ]
    )
    blocked = _edges(
        [("dad_car", "dad_sub", 12.0), ("dad_sub", "dir", 4.5), ("dir", "son_sub", 2.0)]
    )
    model = Model(
        {
            frozenset(("dad_car", "dad_sub")): 12.0,
            frozenset(("dad_sub", "dir")): 4.5,
            frozenset(("dir", "son_sub")): 2.0,
            frozenset(("dad_sub", "son_sub")): -8.0,  # dates of birth 30 years apart
            frozenset(("dad_car", "son_sub")): -9.0,
            frozenset(("dad_car", "dir")): 3.0,
        }
    )
    clusters = constrained_clusters(features, blocked, 0.2, [], score_pairs=model)
    assert _groups(clusters) == {
        frozenset({"dad_sub", "dad_car", "dir"}),
        frozenset({"son_sub"}),
    }
    assert model.asked == [{"dad_sub", "son_sub", "dir", "dad_car"}]


def test_one_person_with_a_replaced_given_name_merges() -> None:
    """No value rule second-guesses the model: given names that share nothing, but date of
    birth, address and document agree, and the model is sure."""
    features = pl.DataFrame(
        {
            "unique_id": ["a", "b"],
            "source_dataset": ["vehicle_keepers", "travel_manifests"],
            "given_name": ["JOHN", "MARK"],
            "family_name": ["SMITH", "SMITH"],
        }
    )
    edges = _edges([("a", "b", 22.0)])
    clusters = constrained_clusters(features, edges, 0.2, [])
    assert _groups(clusters) == {frozenset({"a", "b"})}


def test_a_duplicate_free_dataset_adds_at_most_one_record_per_entity() -> None:
    features = _features(
        [
            ("a", "electoral_roll"),
            ("b", "electoral_roll"),
            ("c", "travel_manifests"),
            ("d", "electoral_roll"),
            ("e", "vehicle_keepers"),
        ]
    )
    # a and b look like one person (say twins on one roll), but the roll lists each elector once.
    edges = _edges(
        [
            ("a", "b", 15.0),
            ("a", "c", 5.0),
            ("b", "c", 8.0),
            ("c", "d", 3.0),
            ("d", "e", 9.0),
            ("a", "e", 1.0),
            ("b", "d", 2.0),
            ("a", "d", 2.0),
            ("b", "e", 1.0),
            ("c", "e", 2.0),
        ]
    )
    clusters = constrained_clusters(features, edges, 0.2, ["electoral_roll"])
    per_entity = clusters.filter(pl.col("source_dataset") == "electoral_roll").group_by(
        "cluster_id"
    )
    assert per_entity.len()["len"].max() == 1
    assert _groups(clusters) == {frozenset({"b", "c"}), frozenset({"a"}), frozenset({"d", "e"})}


def test_mean_evidence_decides_and_pairs_below_the_threshold_do_not_merge() -> None:
    features = _features([("x", "s1"), ("y", "s2"), ("z", "s3"), ("w", "s4")])
    # x-y and x-z are strong, y-z disagrees a little: on average they still say one person.
    # w's only pair is below the threshold.
    edges = _edges([("x", "y", 10.0), ("x", "z", 9.0), ("y", "z", -3.0), ("z", "w", -4.0)])
    clusters = constrained_clusters(features, edges, 0.5, [])
    assert _groups(clusters) == {frozenset({"x", "y", "z"}), frozenset({"w"})}
    assert clusters.filter(pl.col("unique_id") == "y")["cluster_id"].item() == "x"
    # At 0.2 a lone pair merges from its probability 0.2 (weight -2) up, not from 0.5.
    assert threshold_weight(0.2) == pytest.approx(-2.0)
    lone = constrained_clusters(
        _features([("p", "s1"), ("q", "s2")]), _edges([("p", "q", -1.5)]), 0.2, []
    )
    assert _groups(lone) == {frozenset({"p", "q"})}


def test_stewards_cannot_link_pairs_are_never_merged() -> None:
    features = _features([("a", "s1"), ("b", "s2"), ("c", "s3")])
    edges = _edges([("a", "b", 20.0), ("b", "c", 20.0), ("a", "c", 20.0)])
    refused = pl.DataFrame({"unique_id_l": ["c"], "unique_id_r": ["a"]})
    clusters = constrained_clusters(features, edges, 0.2, [], cannot_link=refused)
    assert _groups(clusters) == {frozenset({"a", "b"}), frozenset({"c"})}


def test_a_component_above_the_cap_is_cut_on_its_weakest_links() -> None:
    ids = [f"r{k}" for k in range(6)]
    features = _features([(u, f"s{k}") for k, u in enumerate(ids)])
    weights = [9.0, 8.0, 1.0, 7.0, 6.0]  # r2-r3 is the weakest link of the chain
    chain = _edges([(ids[k], ids[k + 1], w) for k, w in enumerate(weights)])
    components = candidate_components(features, chain, 0.2, max_records=3)
    assert _groups(components.rename({COMPONENT: "cluster_id"})) == {
        frozenset(ids[:3]),
        frozenset(ids[3:]),
    }


def _random_case(seed: int) -> tuple[pl.DataFrame, pl.DataFrame, dict[frozenset[str], float]]:
    rng = random.Random(seed)
    ids = [f"id{k:03d}" for k in range(60)]
    person = {u: rng.randrange(20) for u in ids}
    weights: dict[frozenset[str], float] = {}
    for i, left in enumerate(ids):
        for right in ids[i + 1 :]:
            same = person[left] == person[right]
            weights[frozenset((left, right))] = rng.gauss(8 if same else -6, 6)
    blocked = [(*sorted(p), w) for p, w in weights.items() if w > 0 or rng.random() < 0.05]
    datasets = [(u, "roll" if rng.random() < 0.2 else f"d{rng.randrange(4)}") for u in ids]
    return _features(datasets), _edges(blocked), weights


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_row_order_does_not_change_clusters(seed: int) -> None:
    features, edges, weights = _random_case(seed)
    clusters = constrained_clusters(features, edges, 0.2, ["roll"], score_pairs=Model(weights))
    swapped = edges.select(
        pl.col("unique_id_r").alias("unique_id_l"),
        pl.col("unique_id_l").alias("unique_id_r"),
        "match_probability",
        "match_weight",
    )
    for permutation in range(3):
        shuffled = constrained_clusters(
            features.sample(fraction=1.0, shuffle=True, seed=permutation),
            swapped.sample(fraction=1.0, shuffle=True, seed=permutation),
            0.2,
            ["roll"],
            score_pairs=Model(weights),
        )
        assert clusters.equals(shuffled)
    assert clusters["cluster_id"].n_unique() > 1
    # every cluster is named by its smallest member
    smallest = clusters.group_by("cluster_id").agg(pl.col("unique_id").min())
    assert (smallest["cluster_id"] == smallest["unique_id"]).all()


PRIOR = -10.0


def _scored(rows: list[tuple[str, str, dict[str, float | None]]]) -> pl.DataFrame:
    """Pairs as Splink scores them: the prior plus one term per comparison (None: null level)."""
    names = ["names", "date_of_birth", "address"]
    out = []
    for left, right, terms in rows:
        weight = PRIOR + sum(t for t in terms.values() if t is not None)
        row: dict[str, object] = {
            "unique_id_l": left,
            "unique_id_r": right,
            "match_probability": 1 / (1 + 2**-weight),
            "match_weight": weight,
        }
        for name in names:
            term = terms.get(name)
            row[f"gamma_{name}"] = -1 if term is None else (2 if term > 0 else 0)
            row[f"mw_{name}"] = 0.0 if term is None else term
        out.append(row)
    return pl.DataFrame(out)


def test_an_old_address_that_disagrees_is_no_evidence_against() -> None:
    """A person's records at the old and the new address; a directory entry (no date of birth)
    at the new one. The entry's pair with the old-address record disagrees on address, but a
    person holds several addresses over time: the best address pair counts, so it joins."""
    features = _features([("old", "roll"), ("new", "vehicles"), ("dir", "directory")])
    edges = _scored(
        [
            ("new", "old", {"names": 8.0, "date_of_birth": 12.0, "address": -6.0}),
            ("dir", "new", {"names": 8.0, "address": 9.0}),
            ("dir", "old", {"names": 8.0, "address": -6.0}),
        ]
    )
    clusters = constrained_clusters(features, edges, 0.5, [])
    assert _groups(clusters) == {frozenset({"old", "new", "dir"})}


def test_a_date_of_birth_that_disagrees_is_not_diluted_by_records_without_one() -> None:
    """Father's two records agree on date of birth (one has none); the son's disagrees with the
    one that has it. The record without a date of birth says nothing about it, so the son's
    disagreement is the whole date-of-birth evidence and keeps him apart, although his pair
    with that record is above the threshold."""
    features = _features([("dad1", "roll"), ("dad2", "directory"), ("son", "vehicles")])
    edges = _scored(
        [
            ("dad1", "dad2", {"names": 9.0, "address": 9.0}),
            ("dad2", "son", {"names": 8.0, "address": 9.0}),
            ("dad1", "son", {"names": 8.0, "date_of_birth": -8.0, "address": 9.0}),
        ]
    )
    clusters = constrained_clusters(features, edges, 0.5, [])
    assert _groups(clusters) == {frozenset({"dad1", "dad2"}), frozenset({"son"})}


def test_identifiers_held_several_are_comparisons_of_the_model() -> None:
    """A renamed comparison would silently fall back to the mean: the names must be the model's."""
    from transforms.resolve.settings import HELD_SEVERAL, build_settings

    names = {c.get_comparison("duckdb").output_column_name for c in build_settings([]).comparisons}
    assert HELD_SEVERAL <= names


def test_only_components_a_run_touched_are_clustered_again() -> None:
    """A component of exactly the records of a previous one, none changed, keeps its clusters."""
    features = _features([(u, f"s{k}") for k, u in enumerate("abcdexyz")])
    edges = _edges(
        [("a", "b", 12.0), ("b", "c", 11.0), ("d", "e", 9.0), ("x", "y", 10.0), ("y", "z", 8.0)]
    )
    first = constrained_clusters(features, edges, 0.5, [])
    assert _groups(first) == {frozenset("abc"), frozenset("de"), frozenset("xyz")}
    # A previous run that (say, under steward review) had split a-b-c: kept while untouched.
    settled = first.with_columns(
        pl.when(pl.col("unique_id") == "c")
        .then(pl.lit("c"))
        .otherwise("cluster_id")
        .alias("cluster_id")
    )
    again = constrained_clusters(features, edges, 0.5, [], settled=settled)
    assert _groups(again) == {frozenset("ab"), frozenset("c"), frozenset("de"), frozenset("xyz")}
    # d changed (not settled) and z's component lost a record: both are clustered again, so the
    # splits the settled state claims for them (e alone, z alone) do not stand.
    split = settled.with_columns(
        pl.when(pl.col("unique_id").is_in(["e", "z"]))
        .then(pl.col("unique_id"))
        .otherwise("cluster_id")
        .alias("cluster_id"),
        pl.when(pl.col("unique_id").is_in(["x", "y", "z"]))
        .then(pl.lit(4, pl.UInt32))
        .otherwise(pl.col("er_component_size"))
        .alias("er_component_size"),
    ).filter(pl.col("unique_id") != "d")
    touched = constrained_clusters(features, edges, 0.5, [], settled=split)
    assert _groups(touched) == {frozenset("ab"), frozenset("c"), frozenset("de"), frozenset("xyz")}
    assert set(touched.columns) >= {"er_component", "er_component_size"}


def test_clusters_are_reused_only_under_the_same_clustering_settings() -> None:
    from transforms.resolve.pipeline import clustering_settings, settled_clusters

    settings = clustering_settings(0.5, ["electoral_roll"])
    assert settings != clustering_settings(0.6, ["electoral_roll"])
    assert settings != clustering_settings(0.5, [])
    state = pl.DataFrame(
        {
            "record_key": ["a", "b"],
            "er_component": ["a", "a"],
            "er_component_size": [2, 2],
            "cluster_id": ["a", "a"],
            "clustering": [settings, settings],
        }
    )
    kept = settled_clusters(state, {"b"}, settings)
    assert kept is not None and kept["unique_id"].to_list() == ["a"]  # b changed
    assert settled_clusters(state, set(), clustering_settings(0.6, ["electoral_roll"])) is None
    assert settled_clusters(state.drop("clustering"), set(), settings) is None


def test_stewards_must_link_joins_components_and_merges_first() -> None:
    """m and n are in different candidate components with strongly disagreeing evidence; a
    must-link merges them anyway (scored by the model, not assumed), and is traced as forced."""
    features = _features([("m", "s1"), ("n", "s2"), ("o", "s3")])
    edges = _edges([("n", "o", 12.0)])
    model = Model(
        {frozenset(("m", "n")): -15.0, frozenset(("m", "o")): -15.0, frozenset(("n", "o")): 12.0}
    )
    must = pl.DataFrame({"unique_id_l": ["n"], "unique_id_r": ["m"]})
    plain = constrained_clusters(features, edges, 0.5, [], score_pairs=model)
    assert _groups(plain) == {frozenset({"m"}), frozenset({"n", "o"})}
    forced = constrained_clusters(features, edges, 0.5, [], score_pairs=model, must_link=must)
    assert frozenset({"m", "n"}) <= next(g for g in _groups(forced) if "m" in g)
    trace = forced.filter(pl.col("merge_step").is_not_null()).sort("merge_step")
    assert trace["unique_id"][0] == "n" and trace["merge_into"][0] == "m"
    assert trace["merge_forced"][0] is True


def test_a_cannot_link_holds_through_a_third_record_under_a_must_link() -> None:
    features = _features([("a", "s1"), ("b", "s2"), ("c", "s3")])
    edges = _edges([("a", "b", 20.0), ("b", "c", 20.0), ("a", "c", 20.0)])
    refused = pl.DataFrame({"unique_id_l": ["a"], "unique_id_r": ["c"]})
    must = pl.DataFrame({"unique_id_l": ["b"], "unique_id_r": ["c"]})
    clusters = constrained_clusters(features, edges, 0.2, [], cannot_link=refused, must_link=must)
    assert _groups(clusters) == {frozenset({"b", "c"}), frozenset({"a"})}


def test_merges_are_traced_in_order_with_their_evidence() -> None:
    features = _features([("x", "s1"), ("y", "s2"), ("z", "s3"), ("w", "s4")])
    edges = _edges([("x", "y", 10.0), ("x", "z", 9.0), ("y", "z", -3.0), ("z", "w", -4.0)])
    clusters = constrained_clusters(features, edges, 0.5, [])
    trace = clusters.filter(pl.col("merge_step").is_not_null()).sort("merge_step")
    assert trace["unique_id"].to_list() == ["y", "z"]  # x-y (10) first, then z joins (9-3)/2
    assert trace["merge_into"].to_list() == ["x", "x"]
    assert trace["merge_evidence"].to_list() == pytest.approx([10.0, 3.0])
    assert not any(trace["merge_forced"].to_list())


def _component(rng: np.random.Generator, n: int, comparisons: int) -> dict[str, np.ndarray]:
    """One random component: symmetric pair weights, some comparisons unknown, a few pairs
    forbidden or forced."""
    import numpy as np

    def symmetric(values: np.ndarray) -> np.ndarray:
        upper = np.triu(values, k=1)
        return upper + upper.swapaxes(-1, -2)

    known = symmetric(rng.random((comparisons, n, n)) < 0.6).astype(float)
    return {
        "base": symmetric(rng.normal(-2, 3, (n, n))),
        "terms": symmetric(rng.normal(0, 6, (comparisons, n, n))) * known,
        "known": known,
        "forbidden": symmetric(rng.random((n, n)) < 0.1).astype(bool),
        "must": symmetric(rng.random((n, n)) < 0.05).astype(bool),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_components_clustered_together_equal_each_clustered_alone(seed: int) -> None:
    """`average_linkage` runs a batch of components in lockstep: no component may see another's
    merges, ties or end."""

    rng = np.random.default_rng(seed)
    comparisons, n = 4, 7
    best_of = np.array([False, True, False, True])
    parts = [_component(rng, n, comparisons) for _ in range(40)]
    alone = [
        average_linkage(
            p["base"][None],
            p["terms"][:, None],
            p["known"][:, None],
            best_of,
            p["forbidden"][None],
            p["must"][None],
        )
        for p in parts
    ]
    labels, merges = average_linkage(
        np.stack([p["base"] for p in parts]),
        np.stack([p["terms"] for p in parts], axis=1),
        np.stack([p["known"] for p in parts], axis=1),
        best_of,
        np.stack([p["forbidden"] for p in parts]),
        np.stack([p["must"] for p in parts]),
    )
    assert [row.tolist() for row in labels] == [a[0][0].tolist() for a in alone]
    assert merges == [a[1][0] for a in alone]
    assert sum(len(m) for m in merges) > 40  # the cases do merge, and some stop early
    assert len({len(m) for m in merges}) > 1
