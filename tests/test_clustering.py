"""Constrained clustering: strongest pairs first, never merging contradicting records."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from transforms.resolve.clustering import constrained_clusters, dates_compatible, names_compatible


def _features(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "unique_id": pl.String,
            "source_dataset": pl.String,
            "given_name": pl.String,
            "family_name": pl.String,
            "date_of_birth": pl.Date,
            "birth_year": pl.Int64,
        },
        orient="row",
    )


def _edges(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["unique_id_l", "unique_id_r", "match_probability"], orient="row"
    )


def _groups(clusters: pl.DataFrame) -> set[frozenset[str]]:
    grouped = clusters.group_by("cluster_id").agg("unique_id")
    return {frozenset(ids) for ids in grouped["unique_id"].to_list()}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (date(1980, 3, 4), date(1980, 3, 4), True),
        (date(1980, 3, 4), date(1980, 4, 3), True),  # day and month transposed
        (date(1980, 3, 4), date(1980, 3, 5), True),  # one keystroke
        (date(1980, 3, 14), date(1980, 3, 41 - 10), True),  # 1980-03-14 vs 1980-03-31: one digit
        (date(1980, 3, 4), date(1908, 3, 4), True),  # adjacent digits swapped
        (date(1980, 3, 4), date(1975, 3, 4), False),
        (date(1980, 3, 4), date(1980, 7, 19), False),
    ],
)
def test_dates_compatible(a: date, b: date, expected: bool) -> None:
    assert dates_compatible(a, b) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (("JOHN", "SMITH"), ("J", "SMITH"), True),
        (("BILL", "BUTLER"), ("WILLIAM", "BUTLER"), True),  # nickname
        (("LEE", "THOMAS"), ("THOMAS", "LEE"), True),  # given and family swapped
        (("JOHN", "SMITH"), ("MARY", "SMITH"), False),
    ],
)
def test_names_compatible(a: tuple[str, str], b: tuple[str, str], expected: bool) -> None:
    assert names_compatible(a, b) is expected


def test_a_shared_landline_does_not_chain_father_and_son() -> None:
    features = _features(
        [
            ("dad_sub", "subscriber_records", "JOHN", "SMITH", date(1960, 1, 2), 1960),
            ("son_sub", "subscriber_records", "JOHN", "SMITH", date(1990, 5, 6), 1990),
            ("dir", "telephone_directory", "J", "SMITH", None, None),
            ("dad_car", "vehicle_keepers", "JOHN", "SMITH", date(1960, 1, 2), 1960),
        ]
    )
    edges = _edges(
        [
            ("dad_car", "dad_sub", 0.999),
            ("dad_sub", "dir", 0.95),
            ("dir", "son_sub", 0.94),
            ("dad_sub", "son_sub", 0.5),
        ]
    )
    clusters = constrained_clusters(features, edges, 0.2, ["telephone_directory"])
    assert _groups(clusters) == {
        frozenset({"dad_sub", "dad_car", "dir"}),
        frozenset({"son_sub"}),
    }


def test_a_duplicate_free_dataset_adds_one_record_per_entity() -> None:
    features = _features(
        [
            ("a", "electoral_roll", "ANN", "LEE", None, None),
            ("b", "electoral_roll", "ANN", "LEE", None, None),
            ("c", "travel_manifests", "ANN", "LEE", date(1970, 1, 1), 1970),
        ]
    )
    edges = _edges([("a", "c", 0.8), ("b", "c", 0.9)])
    clusters = constrained_clusters(features, edges, 0.2, ["electoral_roll"])
    assert _groups(clusters) == {frozenset({"b", "c"}), frozenset({"a"})}


def test_pairs_below_the_threshold_do_not_merge_and_clusters_do_not_depend_on_row_order() -> None:
    features = _features(
        [
            ("x", "vehicle_keepers", "ZOE", "KHAN", date(1985, 2, 3), 1985),
            ("y", "subscriber_records", "ZOE", "KHAN", date(1985, 2, 3), 1985),
            ("z", "company_officers", "ZOE", "KHAN", None, 1985),
        ]
    )
    edges = _edges([("x", "y", 0.97), ("y", "z", 0.1)])
    clusters = constrained_clusters(features, edges, 0.2, [])
    shuffled = constrained_clusters(features.reverse(), edges.reverse(), 0.2, [])
    assert _groups(clusters) == {frozenset({"x", "y"}), frozenset({"z"})}
    assert clusters.equals(shuffled)
    assert clusters.filter(pl.col("unique_id") == "y")["cluster_id"].item() == "x"
