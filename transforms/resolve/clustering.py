"""Cluster records into entities on the model's own evidence, under declared hard constraints.

Plain connected components chain households together: father and son share a surname, an
address and a landline, and one strong edge from each to a directory entry joins them. The
pairwise model has the evidence to keep them apart (their dates of birth disagree), but only
on the pair it never looks at when clustering by single links. So:

1. **Candidate components** connect records through pairs at or above
   `threshold_match_probability`.
2. **Every pair inside a component is scored** with the approved model (`score_pairs`,
   transforms/resolve/scoring.py: components are small). A pair blocking never produced is
   scored here, never assumed to disagree.
3. **Average linkage** inside each component: start from single records and repeatedly merge
   the two clusters with the most evidence between them, while it is positive. Splink's match
   weight is the prior plus one term per comparison; the evidence between two clusters is the
   prior less the threshold's weight (the log2 odds of `threshold_match_probability`, so a lone
   pair merges exactly when it is at or above that threshold) plus, per comparison, its term
   over the pairs between them where it is known (not at its null level). For fields a person
   has one of (names, date of birth) that is the mean: a cluster of duplicates repeats one
   record's evidence, so a sum would count it once per pair. For identifiers a person holds
   several of (`HELD_SEVERAL`: addresses, phones) it is the best pair: an old address that
   disagrees is no evidence against. So a cluster joins another only when the pairs between
   them, taken together, say so: the father's strong link to the directory entry does not
   outweigh the father-son pairs' disagreeing dates of birth, and a directory entry with no
   date of birth does not dilute the dates the other records agree on.
4. **Hard constraints** are declared facts only, never values: two records of a
   `duplicate_free` dataset are never in one entity, nor are any pair a steward declared
   cannot-link (`cannot_link`, transforms/resolve/decisions.py). A merge that would break one is
   skipped, so a cannot-link holds through a third record too. Pairs a steward declared
   must-link (`must_link`) join one candidate component and are merged first, before any
   evidence is weighed; the loop then goes on from there.

Each merge is recorded (`MERGE_COLUMNS` on the record whose cluster was absorbed: the step, the
record of the cluster it joined, the evidence between the two clusters, whether a must-link
forced it), so `lakehouse explain` shows the order the clustering merged an entity's records.

A component larger than `MAX_COMPONENT_RECORDS` (a switchboard number, a tower block) would cost
the square of its size to score: it is first cut into pieces of at most that many records by
keeping its strongest links (a maximum spanning forest with a size cap, so its weakest links
are the ones cut), and each piece is clustered as above.

Everything depends only on the records and the scored pairs, ordered by unique_id, never on
row order: an incremental run that reproduces the edges at or above the threshold reproduces
the components, hence the pairs scored inside them, hence the clusters.

Components whose pairs all agree and hold no constraint are accepted whole without the loop,
which keeps the Python part small at national scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from transforms.resolve.settings import HELD_SEVERAL

MAX_COMPONENT_RECORDS = 200
COMPONENT = "er_component"  # the column naming a record's candidate component
MERGE_COLUMNS = ("merge_step", "merge_into", "merge_evidence", "merge_forced")
"""Per record whose cluster was absorbed by another: the merge's step in its component (from
0), the smallest record of the cluster it joined, the evidence between them (match weight
less the threshold's), and whether a steward's must-link forced it. Null for the rest."""
_MUST_WEIGHT = 1e9  # a must-link outranks every scored link when a big component is cut
# Probabilities are clipped this far from 0 and 1 when a pair carries no match weight.
_EPSILON = 1e-12

# score_pairs(records) -> unique_id_l, unique_id_r, match_weight for every pair of records that
# share a COMPONENT value (records: the feature rows of the records to score, with COMPONENT).
PairScorer = Callable[[pl.DataFrame], pl.DataFrame]


def threshold_weight(threshold: float) -> float:
    """The match weight (log2 odds) of a match probability."""
    return math.log2(threshold / (1 - threshold))


def _weights(edges: pl.DataFrame) -> pl.Expr:
    if "match_weight" in edges.columns:
        return pl.col("match_weight").cast(pl.Float64)
    p = pl.col("match_probability").cast(pl.Float64).clip(_EPSILON, 1 - _EPSILON)
    return (p / (1 - p)).log(2)


def _comparison_names(edges: pl.DataFrame) -> list[str]:
    """The model's comparisons whose levels the scored pairs carry (`gamma_<name>` columns)."""
    return sorted(c.removeprefix("gamma_") for c in edges.columns if c.startswith("gamma_"))


def _evidence_terms(edges: pl.DataFrame) -> list[pl.Expr]:
    """Each pair's weight split into `base` (the prior) and `ev_<comparison>` (null if unknown).

    Splink's match weight is the prior's weight plus one term per comparison (and its term
    frequency adjustment); a comparison at its null level (gamma -1) says nothing. Edges
    without per-comparison columns carry their whole weight in `base`.
    """
    names = _comparison_names(edges)
    terms = []
    for name in names:
        term = pl.col(f"mw_{name}").cast(pl.Float64).fill_null(0.0)
        if f"mw_tf_adj_{name}" in edges.columns:
            term = term + pl.col(f"mw_tf_adj_{name}").cast(pl.Float64).fill_null(0.0)
        terms.append(term)
    known = [pl.when(pl.col(f"gamma_{n}") != -1).then(t) for n, t in zip(names, terms, strict=True)]
    base = _weights(edges) - pl.sum_horizontal(terms) if terms else _weights(edges)
    return [base.alias("base"), *(k.alias(f"ev_{n}") for n, k in zip(names, known, strict=True))]


def _oriented(edges: pl.DataFrame, *, terms: bool = False) -> pl.DataFrame:
    """unique_id_l < unique_id_r, match_weight (and with `terms`, base and ev_<comparison>...);
    one row per pair."""
    left, right = pl.col("unique_id_l"), pl.col("unique_id_r")
    return (
        edges.select(
            pl.min_horizontal(left, right).alias("unique_id_l"),
            pl.max_horizontal(left, right).alias("unique_id_r"),
            _weights(edges).alias("match_weight"),
            *(_evidence_terms(edges) if terms else []),
        )
        .filter(pl.col("unique_id_l") != pl.col("unique_id_r"))
        .unique(["unique_id_l", "unique_id_r"], keep="first")
    )


def _capped_forest(strong: pl.DataFrame, members: np.ndarray, cap: int) -> np.ndarray:
    """Labels for `members` (indices): their strongest links joined while pieces stay <= cap."""
    inside = set(members.tolist())
    parent = {m: m for m in inside}
    count = dict.fromkeys(inside, 1)

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    links = strong.filter(pl.col("index_l").is_in(members.tolist())).sort(
        ["match_weight", "index_l", "index_r"], descending=[True, False, False]
    )
    for left, right in links.select("index_l", "index_r").iter_rows():
        a, b = find(left), find(right)
        if a != b and count[a] + count[b] <= cap:
            a, b = min(a, b), max(a, b)
            parent[b] = a
            count[a] += count.pop(b)
    return np.array([find(m) for m in members.tolist()], dtype=np.int64)


def candidate_components(
    features: pl.DataFrame,
    edges: pl.DataFrame,
    threshold: float,
    max_records: int = MAX_COMPONENT_RECORDS,
    must_link: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """unique_id, source_dataset, COMPONENT (the smallest unique_id of it), sorted by unique_id.

    Components connect records through pairs at or above `threshold` and `must_link` pairs; one
    of more than `max_records` records is cut on its weakest links into pieces of at most that
    size (a must-link is the strongest link there is).
    """
    records = (
        features.select("unique_id", "source_dataset")
        .sort("unique_id")
        .with_row_index("index")
        .with_columns(pl.col("index").cast(pl.Int64))
    )
    index = records.select("unique_id", "index")
    links = edges.filter(pl.col("match_probability") >= threshold).pipe(_oriented)
    if must_link is not None and must_link.height:
        forced = must_link.select(
            "unique_id_l", "unique_id_r", pl.lit(_MUST_WEIGHT).alias("match_weight")
        ).pipe(_oriented)
        links = pl.concat([forced, links]).unique(["unique_id_l", "unique_id_r"], keep="first")
    strong = (
        links.join(index.rename({"unique_id": "unique_id_l", "index": "index_l"}), on="unique_id_l")
        .join(index.rename({"unique_id": "unique_id_r", "index": "index_r"}), on="unique_id_r")
        .select("index_l", "index_r", "match_weight")
    )
    size = records.height
    graph = coo_matrix(
        (np.ones(strong.height), (strong["index_l"].to_numpy(), strong["index_r"].to_numpy())),
        shape=(size, size),
    )
    _, labels = connected_components(graph, directed=False)
    labels = labels.astype(np.int64)
    sizes = np.bincount(labels, minlength=labels.max() + 1 if size else 0)
    # Label by the smallest index of each component: independent of scipy's numbering.
    first = np.full(sizes.size, size, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(size, dtype=np.int64))
    component = first[labels]
    for big in np.flatnonzero(sizes > max_records):
        members = np.flatnonzero(labels == big)
        pieces = _capped_forest(strong, members, max_records)
        smallest = pl.DataFrame({"m": members, "p": pieces}).with_columns(
            pl.col("m").min().over("p").alias("first")
        )
        component[members] = smallest["first"].to_numpy()
    uid = records["unique_id"]
    return records.select(
        "unique_id",
        "source_dataset",
        pl.Series(COMPONENT, uid.gather(component), dtype=pl.String),
    )


def pairs_inside(components: pl.DataFrame) -> pl.DataFrame:
    """Every pair (unique_id_l < unique_id_r) of records sharing a component."""
    multi = components.filter(pl.len().over(COMPONENT) > 1).select("unique_id", COMPONENT)
    return (
        multi.join(multi, on=COMPONENT, suffix="_r")
        .filter(pl.col("unique_id") < pl.col("unique_id_r"))
        .select(pl.col("unique_id").alias("unique_id_l"), "unique_id_r", COMPONENT)
    )


def component_pair_weights(
    features: pl.DataFrame,
    components: pl.DataFrame,
    edges: pl.DataFrame,
    score_pairs: PairScorer | None,
) -> pl.DataFrame:
    """unique_id_l, unique_id_r, COMPONENT, match_weight for every pair inside a component.

    Pairs already in `edges` keep their weight; components with a pair `edges` lacks are
    scored with `score_pairs`. Without a scorer a missing pair is neutral (weight null: it
    counts as the threshold itself, neither for nor against).
    """
    pairs = pairs_inside(components).join(
        _oriented(edges, terms=True), on=["unique_id_l", "unique_id_r"], how="left"
    )
    lacking = pairs.filter(pl.col("match_weight").is_null())[COMPONENT].unique()
    if score_pairs is None or lacking.is_empty():
        return pairs
    to_score = components.filter(pl.col(COMPONENT).is_in(lacking.implode())).select(
        "unique_id", COMPONENT
    )
    scored = _oriented(score_pairs(features.join(to_score, on="unique_id")), terms=True)
    known = pairs.filter(pl.col("match_weight").is_not_null())
    filled = (
        pairs.filter(pl.col("match_weight").is_null())
        .select("unique_id_l", "unique_id_r", COMPONENT)
        .join(scored, on=["unique_id_l", "unique_id_r"], how="left")
    )
    return pl.concat([known, filled], how="diagonal_relaxed")


Merge = tuple[int, int, float, bool]
"""One merge of `average_linkage`: (kept cluster, absorbed cluster, evidence, forced)."""

BATCH_CELLS = 1_000_000
"""Components of one size are clustered together, up to this many matrix cells (components x
comparisons x records x records) at a time: a few tens of MB of float arrays."""


def average_linkage(
    base: np.ndarray,
    terms: np.ndarray,
    known: np.ndarray,
    best_of: np.ndarray,
    forbidden: np.ndarray,
    must: np.ndarray | None = None,
) -> tuple[np.ndarray, list[list[Merge]]]:
    """In each of k components of n records, merge the two clusters with the most evidence
    between them while it is positive.

    The evidence between two clusters is the mean `base` of the pairs between them plus one
    term per comparison, taken over the pairs where that comparison is known (`known[c]`): a
    comparison no pair between them can make is no evidence, and pairs that cannot make it do
    not dilute those that do. A comparison of something a person has one of (a date of birth)
    counts its mean; one of something a person holds several of over time (`best_of[c]`:
    addresses, phones) counts its best pair, since a person's old address disagreeing with
    the new one is no evidence against. `base` (k x n x n) is each pair's prior less the
    threshold's weight, `terms` and `known` are (comparisons x k x n x n); pairs in `forbidden`
    are never in one cluster; pairs in `must` are merged first (unless forbidden). Returns for
    each record the smallest index of its cluster (k x n), and each component's merges in the
    order they were made.

    The k components are independent and run in lockstep, one merge each per step, so the
    numpy calls are paid once per step rather than once per component: at national scale
    there are hundreds of thousands of small components.
    """
    k, n = base.shape[0], base.shape[1]
    total = base.astype(np.float64, copy=True)
    counts = known.astype(np.float64, copy=True)
    sums = np.where(best_of[:, None, None, None] & (counts == 0), -np.inf, terms)
    size = np.ones((k, n))
    blocked = forbidden.copy()
    blocked[:, np.arange(n), np.arange(n)] = True
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    label = np.tile(np.arange(n), (k, 1))
    active = np.ones((k, n), dtype=bool)
    mean_of = ~best_of
    merges: list[list[Merge]] = [[] for _ in range(k)]

    def evidence(rows: np.ndarray) -> np.ndarray:
        """(len(rows) x n x n) evidence between every two clusters of components `rows`."""
        counted, summed = counts[:, rows], sums[:, rows]
        present = counted > 0
        means = np.divide(
            summed,
            counted,
            out=np.zeros_like(summed),
            where=present & mean_of[:, None, None, None],
        )
        best = np.where(present & best_of[:, None, None, None], summed, 0.0)
        sizes = size[rows]
        return (
            total[rows] / (sizes[:, :, None] * sizes[:, None, :])
            + means.sum(axis=0)
            + best.sum(axis=0)
        )

    def merge(rows: np.ndarray, i: np.ndarray, j: np.ndarray) -> None:
        """Cluster j joins cluster i in each component of `rows` (one pair per component)."""
        for matrix in (total, *counts, *(sums[c] for c in np.flatnonzero(mean_of))):
            matrix[rows, i, :] += matrix[rows, j, :]
            matrix[rows, :, i] = matrix[rows, i, :]
        for c in np.flatnonzero(best_of):
            sums[c, rows, i, :] = np.maximum(sums[c, rows, i, :], sums[c, rows, j, :])
            sums[c, rows, :, i] = sums[c, rows, i, :]
        size[rows, i] += size[rows, j]
        blocked[rows, i, :] |= blocked[rows, j, :]
        blocked[rows, :, i] = blocked[rows, i, :]
        blocked[rows, i, i] = True
        active[rows, j] = False
        label[rows] = np.where(label[rows] == j[:, None], i[:, None], label[rows])

    if must is not None:
        for row, a, b in zip(*np.nonzero(must & upper), strict=True):
            one = np.array([row])
            i, j = sorted((int(label[row, a]), int(label[row, b])))
            if i != j and not blocked[row, i, j]:
                between = float(evidence(one)[0, i, j])
                merge(one, np.array([i]), np.array([j]))
                merges[row].append((i, j, between, True))
    running = np.arange(k)
    while running.size:
        usable = upper & ~blocked[running] & active[running, :, None] & active[running, None, :]
        scored = np.where(usable, evidence(running), -np.inf).reshape(running.size, n * n)
        top = np.argmax(scored, axis=1)
        best = scored[np.arange(running.size), top]
        go = best > 0
        running, top, best = running[go], top[go], best[go]
        if not running.size:
            break
        i, j = np.divmod(top, n)
        merge(running, i, j)
        for row, kept, absorbed, between in zip(
            running.tolist(), i.tolist(), j.tolist(), best.tolist(), strict=True
        ):
            merges[row].append((kept, absorbed, between, False))
    return label, merges


def constrained_clusters(
    features: pl.DataFrame,
    edges: pl.DataFrame,
    threshold: float,
    duplicate_free: list[str],
    *,
    score_pairs: PairScorer | None = None,
    cannot_link: pl.DataFrame | None = None,
    must_link: pl.DataFrame | None = None,
    max_component_records: int = MAX_COMPONENT_RECORDS,
    held_several: Collection[str] = HELD_SEVERAL,
    settled: pl.DataFrame | None = None,
    accept_whole: bool = True,
) -> pl.DataFrame:
    """unique_id, source_dataset, cluster_id (the smallest unique_id of the cluster), the
    record's candidate component (COMPONENT, COMPONENT_SIZE) for the next run's `settled`, and
    the merge that absorbed its cluster (MERGE_COLUMNS).

    `edges`: scored pairs (unique_id_l, unique_id_r, match_probability and, when known,
    match_weight). `score_pairs` scores the pairs inside components that `edges` lacks.
    `cannot_link`: pairs (unique_id_l, unique_id_r) that must never share an entity;
    `must_link`: pairs merged before any evidence is weighed (a must-link a cannot-link
    contradicts is the caller's to drop: transforms/resolve/decisions.py reports it).
    `settled`: the previous run's unique_id, COMPONENT, COMPONENT_SIZE, cluster_id (and
    MERGE_COLUMNS) of every record whose features did not change since and no decision names.
    `accept_whole=False` runs the merge loop in components whose pairs all agree too (they end
    as one cluster either way): `lakehouse explain` replays an entity's merge order so. A component made of exactly the records of one
    previous component, none changed, has the same pairs and so the same clusters: they are
    taken as they were, and only the components a run touched are scored and clustered.
    """
    components = candidate_components(features, edges, threshold, max_component_records, must_link)
    components, reused = _reuse_settled(components, settled)
    clustered = _cluster_components(
        features,
        components,
        edges,
        threshold,
        duplicate_free,
        score_pairs,
        _Decided(cannot_link, must_link),
        held_several,
        accept_whole,
    )
    return pl.concat([clustered, reused], how="vertical_relaxed").sort("unique_id")


COMPONENT_SIZE = "er_component_size"
OUTPUT = ("unique_id", "source_dataset", "cluster_id", COMPONENT, COMPONENT_SIZE, *MERGE_COLUMNS)
MERGE_SCHEMA = {
    "merge_step": pl.Int64,
    "merge_into": pl.String,
    "merge_evidence": pl.Float64,
    "merge_forced": pl.Boolean,
}


@dataclass(frozen=True)
class _Decided:
    """Stewards' pairs: never together (cannot), merged first (must)."""

    cannot: pl.DataFrame | None
    must: pl.DataFrame | None

    def flags(self, pairs: pl.DataFrame) -> pl.DataFrame:
        """`pairs` with `refused` and `forced` (booleans) from the decided pairs."""
        for name, decided in (("refused", self.cannot), ("forced", self.must)):
            if decided is None or decided.height == 0:
                pairs = pairs.with_columns(pl.lit(False).alias(name))
                continue
            marks = _oriented(decided.with_columns(pl.lit(0.0).alias("match_weight"))).select(
                "unique_id_l", "unique_id_r", pl.lit(True).alias(name)
            )
            pairs = pairs.join(marks, on=["unique_id_l", "unique_id_r"], how="left").with_columns(
                pl.col(name).fill_null(False)
            )
        return pairs


def _reuse_settled(
    components: pl.DataFrame, settled: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(components still to cluster, records whose previous clusters stand, in OUTPUT shape)."""
    sizes = components.group_by(COMPONENT).len(COMPONENT_SIZE)
    components = components.join(sizes, on=COMPONENT)
    empty = (
        components.head(0)
        .with_columns(pl.col(COMPONENT).alias("cluster_id"), *_no_merge())
        .select(OUTPUT)
    )
    if settled is None or settled.height == 0:
        return components, empty
    was = settled.select(
        "unique_id",
        pl.col(COMPONENT).alias("component_was"),
        pl.col(COMPONENT_SIZE).alias("size_was"),
        pl.col("cluster_id").alias("cluster_was"),
        *(
            pl.col(c).cast(t) if c in settled.columns else pl.lit(None, dtype=t).alias(c)
            for c, t in MERGE_SCHEMA.items()
        ),
    )
    checked = components.join(was, on="unique_id", how="left")
    same = (pl.col("component_was") == pl.col(COMPONENT)) & (
        pl.col("size_was") == pl.col(COMPONENT_SIZE)
    )
    clean = checked.group_by(COMPONENT).agg(same.fill_null(False).all().alias("clean"))
    ids = clean.filter("clean")[COMPONENT].implode()
    reused = checked.filter(pl.col(COMPONENT).is_in(ids)).select(
        "unique_id",
        "source_dataset",
        pl.col("cluster_was").alias("cluster_id"),
        COMPONENT,
        COMPONENT_SIZE,
        *MERGE_COLUMNS,
    )
    return components.filter(~pl.col(COMPONENT).is_in(ids)), reused


def _no_merge() -> list[pl.Expr]:
    return [pl.lit(None, dtype=t).alias(c) for c, t in MERGE_SCHEMA.items()]


@dataclass(frozen=True)
class _Batch:
    """Components of one size, as `average_linkage` takes them."""

    members: list[list[str]]  # each component's records, sorted
    base: np.ndarray  # k x n x n
    terms: np.ndarray  # comparisons x k x n x n (nulls as 0)
    known: np.ndarray  # comparisons x k x n x n
    forbidden: np.ndarray  # k x n x n
    must: np.ndarray  # k x n x n


def _component_batches(
    components: pl.DataFrame, pairs: pl.DataFrame, hard: pl.Series, comparisons: list[str]
) -> Iterator[_Batch]:
    """The components in `hard`, grouped by size into batches of at most `BATCH_CELLS` cells.

    Everything is converted once for all components and sliced: per-component polars calls
    cost more than the linkage itself at national scale (tens of thousands of components).
    """
    wanted = hard.implode()
    planes = len(comparisons) + 1
    members = (
        components.filter(pl.col(COMPONENT).is_in(wanted))
        .select("unique_id", COMPONENT)
        .sort(COMPONENT, "unique_id")
        .with_columns(
            pl.int_range(pl.len()).over(COMPONENT).alias("position"),
            pl.len().over(COMPONENT).alias("records"),
        )
    )
    slots = (
        members.group_by(COMPONENT)
        .agg(pl.col("records").first(), pl.col("unique_id"))
        .sort("records", COMPONENT)
        .with_columns(
            (BATCH_CELLS // (pl.col("records").cast(pl.Int64) ** 2 * planes))
            .clip(lower_bound=1)
            .alias("per_batch"),
            pl.int_range(pl.len()).over("records").alias("rank"),
        )
        .with_columns(
            (pl.col("rank") // pl.col("per_batch")).alias("batch"),
            (pl.col("rank") % pl.col("per_batch")).alias("slot"),
        )
    )
    position = members.select("unique_id", "position")
    inside = (
        pairs.filter(pl.col(COMPONENT).is_in(wanted))
        .join(position.rename({"unique_id": "unique_id_l", "position": "left"}), on="unique_id_l")
        .join(position.rename({"unique_id": "unique_id_r", "position": "right"}), on="unique_id_r")
        .join(slots.select(COMPONENT, "records", "batch", "slot"), on=COMPONENT)
        .sort("records", "batch")
    )
    groups = slots.group_by("records", "batch", maintain_order=True).agg(
        pl.col("unique_id"), pl.len().alias("components")
    )
    counted = inside.group_by("records", "batch", maintain_order=True).len("pairs")
    arrays = {
        name: inside[name].to_numpy()
        for name in ("slot", "left", "right", "base", "forbidden", "forced")
    }
    for column in comparisons:
        arrays[f"value:{column}"] = inside[column].fill_null(0.0).to_numpy()
        arrays[f"known:{column}"] = inside[column].is_not_null().to_numpy()
    first = 0
    for (n, _, records, k), (_, _, count) in zip(
        groups.iter_rows(), counted.iter_rows(), strict=True
    ):
        mine = {name: values[first : first + count] for name, values in arrays.items()}
        first += count
        where = (k, n, mine["slot"], mine["left"], mine["right"])
        yield _Batch(
            members=records,
            base=_square(*where, mine["base"]),
            terms=_planes(where, mine, "value", comparisons),
            known=_planes(where, mine, "known", comparisons),
            forbidden=_square(*where, mine["forbidden"]).astype(bool),
            must=_square(*where, mine["forced"]).astype(bool),
        )


def _square(
    k: int, n: int, slot: np.ndarray, left: np.ndarray, right: np.ndarray, values: np.ndarray
) -> np.ndarray:
    """k symmetric n x n matrices holding each pair's value at (slot, left, right)."""
    matrix = np.zeros((k, n, n))
    matrix[slot, left, right] = matrix[slot, right, left] = values
    return matrix


Where = tuple[int, int, np.ndarray, np.ndarray, np.ndarray]
"""`_square`'s first arguments: k, n, and each pair's slot, left and right positions."""


def _planes(
    where: Where, pairs: dict[str, np.ndarray], kind: str, comparisons: list[str]
) -> np.ndarray:
    """comparisons x k x n x n: `_square` of each comparison's `<kind>:<comparison>` values
    (a first axis of length 0 when there are no comparisons)."""
    k, n = where[0], where[1]
    stacked = [_square(*where, pairs[f"{kind}:{c}"]) for c in comparisons]
    return np.array(stacked).reshape(len(comparisons), k, n, n)


def _cluster_components(
    features: pl.DataFrame,
    components: pl.DataFrame,
    edges: pl.DataFrame,
    threshold: float,
    duplicate_free: list[str],
    score_pairs: PairScorer | None,
    decided: _Decided,
    held_several: Collection[str],
    accept_whole: bool = True,
) -> pl.DataFrame:
    """Average linkage inside every component that has a contradiction or a steward's
    decision (OUTPUT shape)."""
    weights = component_pair_weights(features, components, edges, score_pairs)
    offset = threshold_weight(threshold)
    forbidden = pl.col("source_dataset") == pl.col("source_dataset_r")
    datasets = components.select("unique_id", "source_dataset")
    pairs = (
        weights.join(datasets, left_on="unique_id_l", right_on="unique_id")
        .join(datasets, left_on="unique_id_r", right_on="unique_id", suffix="_r")
        .with_columns(
            (pl.col("match_weight") - offset).fill_null(0.0).alias("evidence"),
            (pl.col("base") - offset).fill_null(0.0).alias("base"),
            (forbidden & pl.col("source_dataset").is_in(duplicate_free)).alias("forbidden"),
        )
    )
    pairs = decided.flags(pairs).with_columns(pl.col("forbidden") | pl.col("refused"))
    # Components whose every pair agrees and none is forbidden are one entity as they stand.
    troubled = pairs.group_by(COMPONENT).agg(
        (
            (pl.col("evidence") <= 0)
            | pl.col("forbidden")
            | pl.col("forced")
            | pl.lit(not accept_whole)
        )
        .any()
        .alias("troubled")
    )
    hard = troubled.filter("troubled")[COMPONENT]
    comparisons = sorted(c for c in pairs.columns if c.startswith("ev_"))
    best_of = np.array([c.removeprefix("ev_") in held_several for c in comparisons], dtype=bool)
    ids: list[str] = []
    roots: list[str] = []
    trace: list[tuple[str, int, str, float, bool]] = []
    if hard.len():
        for batch in _component_batches(components, pairs, hard, comparisons):
            labels, merges = average_linkage(
                batch.base, batch.terms, batch.known, best_of, batch.forbidden, batch.must
            )
            for own, roots_of, made in zip(batch.members, labels, merges, strict=True):
                ids.extend(own)
                roots.extend(own[k] for k in roots_of)
                trace.extend(
                    (own[j], step, own[i], between, forced)
                    for step, (i, j, between, forced) in enumerate(made)
                )
    split = pl.DataFrame(
        {"unique_id": ids, "root": roots}, schema={"unique_id": pl.String, "root": pl.String}
    )
    merged = pl.DataFrame(trace, schema={"unique_id": pl.String, **MERGE_SCHEMA}, orient="row")
    return (
        components.join(split, on="unique_id", how="left")
        .join(merged, on="unique_id", how="left")
        .select(
            "unique_id",
            "source_dataset",
            pl.coalesce("root", COMPONENT).alias("cluster_id"),
            COMPONENT,
            COMPONENT_SIZE,
            *MERGE_COLUMNS,
        )
    )
