"""Cluster scored pairs into entities, refusing merges that would put contradictions in one entity.

Plain connected components chain households together: father and son share a surname, an
address and a landline, and one wrong edge joins them. Splink's single-best-link clustering
guards only against two records of one duplicate-free dataset. Here pairs are merged strongest
first (union-find) and a merge is refused when the two clusters would then hold:

- two records of a dataset declared `duplicate_free` in the catalogue;
- two dates of birth that are neither equal, day/month transposed, nor one keystroke apart;
- two birth years more than a year apart;
- two given names that share neither an initial, a nickname relation nor a given/family swap.

Such contradictions are evidence a pairwise model cannot see, because it never compares the third
record. The result depends only on the edges (ordered by probability, then by key), so an
incremental run that reproduces the edges reproduces the clusters.

Most connected components hold no contradiction at all; they are accepted whole, and only the
rest go through the merge loop, which keeps the Python part small at national scale.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from transforms.resolve.features import name_variants


@dataclass
class _Cluster:
    """What a cluster holds that a merge must not contradict."""

    members: list[int]
    datasets: set[str] = field(default_factory=set)  # duplicate-free datasets present
    dates: set[date] = field(default_factory=set)
    years: set[int] = field(default_factory=set)
    names: set[tuple[str, str | None]] = field(default_factory=set)  # (given, family)


def dates_compatible(a: date, b: date) -> bool:
    """Same date, day and month transposed, or one keystroke apart (typo or adjacent swap)."""
    if a == b or (a.year == b.year and a.month == b.day and a.day == b.month):
        return True
    x, y = a.isoformat(), b.isoformat()
    diffs = [i for i in range(len(x)) if x[i] != y[i]]
    if len(diffs) == 1:
        return True
    return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and x[diffs[0]] == y[diffs[1]]


@lru_cache(maxsize=65536)
def _variants(given: str) -> frozenset[str]:
    return frozenset(name_variants(given))


def names_compatible(a: tuple[str, str | None], b: tuple[str, str | None]) -> bool:
    """Given names agree on the initial, are nicknames of each other, or were swapped."""
    (given_a, family_a), (given_b, family_b) = a, b
    if given_a[0] == given_b[0]:
        return True
    if given_a == family_b or given_b == family_a:
        return True
    return given_b in _variants(given_a) or given_a in _variants(given_b)


def _compatible(a: _Cluster, b: _Cluster) -> bool:
    if a.datasets & b.datasets:
        return False
    if any(abs(x - y) > 1 for x in a.years for y in b.years):
        return False
    if not all(dates_compatible(x, y) for x in a.dates for y in b.dates if x != y):
        return False
    return all(names_compatible(x, y) for x in a.names for y in b.names if x != y)


def _merge(a: _Cluster, b: _Cluster) -> _Cluster:
    a.members.extend(b.members)
    a.datasets |= b.datasets
    a.dates |= b.dates
    a.years |= b.years
    a.names |= b.names
    return a


def _conflicted_components(records: pl.DataFrame) -> set[int]:
    """Components that could hold a contradiction (a cheap over-approximation of _compatible)."""
    flags = records.group_by("component").agg(
        (
            pl.col("duplicate_free").sum()
            > pl.col("source_dataset").filter("duplicate_free").n_unique()
        ).alias("repeated_dataset"),
        (pl.col("date_of_birth").drop_nulls().n_unique() > 1).alias("dates"),
        ((pl.col("birth_year").max() - pl.col("birth_year").min()) > 1).alias("years"),
        (pl.col("given_name").drop_nulls().str.slice(0, 1).n_unique() > 1).alias("names"),
    )
    conflicted = flags.filter(pl.any_horizontal("repeated_dataset", "dates", "years", "names"))
    return set(conflicted["component"].to_list())


def _greedy(records: pl.DataFrame, edges: pl.DataFrame) -> dict[int, int]:
    """Union-find over edges strongest first, refusing contradicting merges; index -> root."""
    clusters: dict[int, _Cluster] = {}
    for index, dataset, free, dob, year, given, family in records.select(
        "index",
        "source_dataset",
        "duplicate_free",
        "date_of_birth",
        "birth_year",
        "given_name",
        "family_name",
    ).iter_rows():
        clusters[index] = _Cluster(
            members=[index],
            datasets={dataset} if free else set(),
            dates={dob} if dob is not None else set(),
            years={year} if year is not None else set(),
            names={(given, family)} if given else set(),
        )
    parent = {index: index for index in clusters}

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for left, right in edges.select("index_l", "index_r").iter_rows():
        root_l, root_r = find(left), find(right)
        if root_l == root_r or not _compatible(clusters[root_l], clusters[root_r]):
            continue
        if len(clusters[root_l].members) < len(clusters[root_r].members):
            root_l, root_r = root_r, root_l
        _merge(clusters[root_l], clusters.pop(root_r))
        parent[root_r] = root_l
    return {index: find(index) for index in parent}


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Millions of short-lived acyclic objects: the cycle collector would only cost time."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def constrained_clusters(
    features: pl.DataFrame, edges: pl.DataFrame, threshold: float, duplicate_free: list[str]
) -> pl.DataFrame:
    """unique_id, source_dataset, cluster_id (the smallest unique_id of the cluster)."""
    records = (
        features.select(
            "unique_id",
            "source_dataset",
            "date_of_birth",
            "birth_year",
            "given_name",
            "family_name",
        )
        .sort("unique_id")
        .with_row_index("index")
        .with_columns(
            pl.col("index").cast(pl.Int64),
            pl.col("source_dataset").is_in(duplicate_free).alias("duplicate_free"),
        )
    )
    index = records.select("unique_id", "index")
    strong = (
        edges.filter(pl.col("match_probability") >= threshold)
        .join(index.rename({"unique_id": "unique_id_l", "index": "index_l"}), on="unique_id_l")
        .join(index.rename({"unique_id": "unique_id_r", "index": "index_r"}), on="unique_id_r")
        .sort(["match_probability", "unique_id_l", "unique_id_r"], descending=[True, False, False])
        .select("index_l", "index_r")
    )
    size = records.height
    graph = coo_matrix(
        (np.ones(strong.height), (strong["index_l"].to_numpy(), strong["index_r"].to_numpy())),
        shape=(size, size),
    )
    _, components = connected_components(graph, directed=False)
    records = records.with_columns(pl.Series("component", components, dtype=pl.Int64))
    conflicted = _conflicted_components(records)
    root = records["component"].to_numpy() + size  # clean components: one label each
    if conflicted:
        inside = records.filter(pl.col("component").is_in(list(conflicted)))
        in_conflict = strong.filter(pl.col("index_l").is_in(inside["index"].implode()))
        with _without_cycle_collection():
            roots = _greedy(inside, in_conflict)
        for node, parent in roots.items():
            root[node] = parent
    labelled = records.with_columns(pl.Series("root", root))
    return (
        labelled.with_columns(pl.col("unique_id").min().over("root").alias("cluster_id"))
        .select("unique_id", "source_dataset", "cluster_id")
        .sort("unique_id")
    )
