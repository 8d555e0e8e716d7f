"""Network questions over `gold.entity_links`: who is within N hops, and the shortest chains.

Links are followed both ways (a `called` link from a to b joins b to a as well). Clearance is
applied before anything is traversed: an entity or a link classified above the user's clearance
is removed from the graph, so it is never returned, never traversed through, and an entity above
clearance is reported exactly as one that does not exist.

The traversal is breadth-first, one polars join of the frontier against the edge list per hop:
the Python loop runs over hops, never over links, so `gold.entity_links` may have millions of rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from transforms.config import Environment
from transforms.contract import CLASSIFICATION_RANK, rank_expr
from transforms.delta_io import read_table

NETWORK_TABLES: tuple[str, ...] = ("gold.entities", "gold.entity_links")
NODE_COLUMNS: tuple[str, ...] = (
    "entity_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "record_count",
    "classification",
)
EDGE_COLUMNS: tuple[str, ...] = (
    "entity_id_a",
    "entity_id_b",
    "link_type",
    "weight",
    "evidence",
    "classification",
)
MAX_PATHS = 10
"""At most this many shortest paths are listed; the total found is always reported."""
DEFAULT_MAX_HOPS = 6
"""`lakehouse path` looks no further than this many links unless told (`--max-hops`)."""
_ID = "entity_id"


class NetworkRefused(ValueError):
    """The question is not allowed or cannot be answered as asked; nothing was returned."""


class EntityNotVisible(NetworkRefused, LookupError):
    """No such entity within the user's clearance (whether it does not exist or is above it)."""


# --- the graph a user may see -------------------------------------------------------------------


def visible(
    entities: pl.DataFrame, links: pl.DataFrame, clearance: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Entities, and links between two of them, classified at or below `clearance`.

    A missing or unknown classification ranks above every clearance (`rank_expr`)."""
    limit = CLASSIFICATION_RANK[clearance]
    seen = entities.filter(rank_expr("classification") <= limit)
    ids = seen.select(_ID)
    kept = (
        links.filter(rank_expr("classification") <= limit)
        .join(ids, left_on="entity_id_a", right_on=_ID, how="semi")
        .join(ids, left_on="entity_id_b", right_on=_ID, how="semi")
    )
    return seen, kept


def _adjacency(links: pl.DataFrame) -> pl.DataFrame:
    """Each link in each direction (`src`, `dst`); parallel links stay (joins are semi or unique)."""
    pairs = links.select(
        pl.col("entity_id_a").cast(pl.String).alias("src"),
        pl.col("entity_id_b").cast(pl.String).alias("dst"),
    )
    return pl.concat([pairs, pairs.select(src="dst", dst="src")])


def _layers(
    adjacency: pl.DataFrame, start: str, hops: int, target: str | None = None
) -> list[pl.DataFrame]:
    """Breadth-first layers from `start`: layer d holds the entities first reached in d hops.

    Stops after `hops` hops, when nothing new is reached, or once `target` is reached."""
    frontier = pl.DataFrame({_ID: [start]}, schema={_ID: pl.String})
    seen = frontier
    layers = [frontier]
    for _ in range(hops):
        reached = (
            adjacency.join(frontier, left_on="src", right_on=_ID, how="semi")
            .select(pl.col("dst").alias(_ID))
            .unique()
            .join(seen, on=_ID, how="anti")
        )
        if reached.is_empty():
            break
        layers.append(reached)
        if target is not None and _holds(reached, target):
            break
        seen = pl.concat([seen, reached])
        frontier = reached
    return layers


def _holds(frame: pl.DataFrame, entity_id: str) -> bool:
    return bool(frame.select((pl.col(_ID) == entity_id).any()).item())


def _require(entities: pl.DataFrame, entity_id: str, user: str | None) -> None:
    if not _holds(entities, entity_id):
        who = f" to {user}" if user else ""
        raise EntityNotVisible(f"no entity {entity_id} visible{who}")


def _nodes(entities: pl.DataFrame, distances: pl.DataFrame) -> pl.DataFrame:
    columns = [c for c in NODE_COLUMNS if c in entities.columns]
    return (
        entities.select(columns)
        .join(distances, on=_ID)
        .select(_ID, "hops", *columns[1:])
        .sort("hops", _ID)
    )


# --- N hops around one entity -------------------------------------------------------------------


def neighbourhood(
    entities: pl.DataFrame,
    links: pl.DataFrame,
    start: str,
    hops: int,
    clearance: str,
    *,
    user: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Entities reachable from `start` within `hops` links, and the links that reach them.

    Nodes: `entity_id`, `hops` (its distance from `start`, 0 for `start`) and the entity's
    attributes. Edges: every visible link with an end fewer than `hops` links from `start` (so
    every link a walk of at most `hops` links can take, including those between two entities at
    the same distance). Raises `EntityNotVisible` when `start` is not visible at `clearance`
    (`user` only names who asked in the message) and `NetworkRefused` when `hops` < 1.
    """
    if hops < 1:
        raise NetworkRefused(f"--hops must be at least 1, not {hops}")
    seen, kept = visible(entities, links, clearance)
    _require(seen, start, user)
    layers = _layers(_adjacency(kept), start, hops)
    distances = pl.concat(
        [
            layer.with_columns(pl.lit(d, dtype=pl.Int64).alias("hops"))
            for d, layer in enumerate(layers)
        ]
    )
    nodes = _nodes(seen, distances)
    edges = (
        kept.select([c for c in EDGE_COLUMNS if c in kept.columns])
        .join(distances.rename({_ID: "entity_id_a", "hops": "_hops_a"}), on="entity_id_a")
        .join(distances.rename({_ID: "entity_id_b", "hops": "_hops_b"}), on="entity_id_b")
        .with_columns(pl.min_horizontal("_hops_a", "_hops_b").alias("_hops"))
        .filter(pl.col("_hops") < hops)
        .sort("_hops", "link_type", "entity_id_a", "entity_id_b")
        .drop("_hops_a", "_hops_b", "_hops")
    )
    return nodes, edges


# --- shortest chains between two entities -------------------------------------------------------


@dataclass(frozen=True)
class Paths:
    """All shortest chains of links between two entities, at most `MAX_PATHS` of them listed.

    `edges`: one row per (path, step, link): `path` (1, 2, ...), `step` (1 from `source`),
    `from_entity`, `to_entity`, `link_type`, `weight`, `evidence`, `classification`; two entities
    joined by several links (an address and calls) give that step one row per link.
    `nodes`: the entities on any listed path, `hops` being their distance from `source`.
    """

    source: str
    target: str
    edges: pl.DataFrame
    nodes: pl.DataFrame
    found: int
    listed: int
    hops: int | None

    @property
    def capped(self) -> bool:
        """More shortest paths exist than are listed."""
        return self.found > self.listed

    def union_edges(self) -> pl.DataFrame:
        """Each link on any listed path once (for a graph of the paths)."""
        return (
            self.edges.drop("path", "step")
            .unique(["from_entity", "to_entity", "link_type"], maintain_order=True)
            .rename({"from_entity": "entity_id_a", "to_entity": "entity_id_b"})
        )


_PATH_SCHEMA = {
    "path": pl.Int64,
    "step": pl.Int64,
    "from_entity": pl.String,
    "to_entity": pl.String,
}


def shortest_paths(
    entities: pl.DataFrame,
    links: pl.DataFrame,
    source: str,
    target: str,
    clearance: str,
    *,
    max_hops: int = DEFAULT_MAX_HOPS,
    limit: int = MAX_PATHS,
    user: str | None = None,
) -> Paths:
    """Every shortest chain of visible links from `source` to `target` of at most `max_hops`.

    Breadth-first from `source` until `target` is reached; then, walking back layer by layer,
    the links that lie on some shortest path (one join per hop). Only that small graph is walked
    in Python, to count the paths (all of them) and list the first `limit` in entity-id order.
    No path within `max_hops` gives `found == 0` and `hops is None`.
    """
    if max_hops < 1:
        raise NetworkRefused(f"--max-hops must be at least 1, not {max_hops}")
    if source == target:
        raise NetworkRefused(f"a path needs two different entities, not {source} twice")
    seen, kept = visible(entities, links, clearance)
    _require(seen, source, user)
    _require(seen, target, user)
    adjacency = _adjacency(kept)
    layers = _layers(adjacency, source, max_hops, target)
    if not _holds(layers[-1], target):
        nowhere = pl.DataFrame(schema={_ID: pl.String, "hops": pl.Int64})
        edges = _path_edges(pl.DataFrame(schema=_PATH_SCHEMA), kept)
        return Paths(source, target, edges, _nodes(seen, nowhere), found=0, listed=0, hops=None)
    depth = len(layers) - 1
    successors: dict[str, list[str]] = {}
    current = pl.DataFrame({_ID: [target]}, schema={_ID: pl.String})
    for d in range(depth - 1, -1, -1):
        step = (
            adjacency.join(current, left_on="dst", right_on=_ID, how="semi")
            .join(layers[d], left_on="src", right_on=_ID, how="semi")
            .unique()
        )
        for src, dst in step.sort("src", "dst").iter_rows():
            successors.setdefault(src, []).append(dst)
        current = step.select(pl.col("src").alias(_ID)).unique()
    counts = _count_paths(successors, target)
    chains = list(_walk(successors, source, target, limit))
    steps = pl.DataFrame(
        [
            (number, position, chain[position - 1], chain[position])
            for number, chain in enumerate(chains, start=1)
            for position in range(1, len(chain))
        ],
        schema=_PATH_SCHEMA,
        orient="row",
    )
    distances = pl.DataFrame(
        {
            _ID: [e for chain in chains for e in chain],
            "hops": [d for c in chains for d in range(len(c))],
        },
        schema={_ID: pl.String, "hops": pl.Int64},
    ).unique()
    return Paths(
        source,
        target,
        _path_edges(steps, kept),
        _nodes(seen, distances),
        found=counts[source],
        listed=len(chains),
        hops=depth,
    )


def _path_edges(steps: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """Each step of each path with every link between its two entities (either direction)."""
    pair = [
        pl.min_horizontal("entity_id_a", "entity_id_b").cast(pl.String).alias("_lo"),
        pl.max_horizontal("entity_id_a", "entity_id_b").cast(pl.String).alias("_hi"),
    ]
    keyed = links.select(*pair, *[c for c in EDGE_COLUMNS[2:] if c in links.columns])
    return (
        steps.with_columns(
            pl.min_horizontal("from_entity", "to_entity").alias("_lo"),
            pl.max_horizontal("from_entity", "to_entity").alias("_hi"),
        )
        .join(keyed, on=["_lo", "_hi"])
        .drop("_lo", "_hi")
        .sort("path", "step", "link_type")
    )


def _count_paths(successors: dict[str, list[str]], target: str) -> dict[str, int]:
    """Paths to `target` from every entity of the shortest-path graph (memoised, iterative)."""
    counts: dict[str, int] = {target: 1}
    stack = list(successors)
    while stack:
        node = stack[-1]
        if node in counts:
            stack.pop()
            continue
        pending = [n for n in successors.get(node, []) if n not in counts]
        if pending:
            stack.extend(pending)
            continue
        counts[node] = sum(counts[n] for n in successors.get(node, []))
        stack.pop()
    return counts


def _walk(
    successors: dict[str, list[str]], source: str, target: str, limit: int
) -> Iterator[list[str]]:
    """The first `limit` paths from `source` to `target`, depth first (every branch ends there)."""
    listed = 0
    stack: list[list[str]] = [[source]]
    while stack and listed < limit:
        chain = stack.pop()
        if chain[-1] == target:
            listed += 1
            yield chain
            continue
        for nxt in reversed(successors.get(chain[-1], [])):
            stack.append([*chain, nxt])


# --- GraphML ------------------------------------------------------------------------------------


def _graphml_value(value: object) -> str | int | float | bool:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def to_graphml(nodes: pl.DataFrame, edges: pl.DataFrame) -> str:
    """GraphML of `nodes` (by `entity_id`, other columns as attributes) and `edges` (from
    `entity_id_a` to `entity_id_b`, other columns as attributes); null attributes are left out.

    A multigraph: two entities joined by an address and by calls keep both links."""
    import networkx as nx

    graph = nx.MultiGraph()
    for row in nodes.iter_rows(named=True):
        node = str(row.pop(_ID))
        graph.add_node(node, **{k: _graphml_value(v) for k, v in row.items() if v is not None})
    for row in edges.iter_rows(named=True):
        a, b = str(row.pop("entity_id_a")), str(row.pop("entity_id_b"))
        graph.add_edge(a, b, **{k: _graphml_value(v) for k, v in row.items() if v is not None})
    body = "\n".join(nx.generate_graphml(graph))
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'


# --- reading gold: the CLI runs these under transforms/governance/access.py `governed` ----------


def network_request(start: str, hops: int) -> str:
    """What `ops.audit_log.sql` records of a network question."""
    return f"network {start} --hops {hops}"


def path_request(source: str, target: str, max_hops: int) -> str:
    """What `ops.audit_log.sql` records of a path question."""
    return f"path {source} {target} --max-hops {max_hops}"


def read_gold(env: Environment) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The entities and links a network question walks (current gold)."""
    return (
        read_table(env, "gold.entities", columns=list(NODE_COLUMNS)),
        read_table(env, "gold.entity_links", columns=list(EDGE_COLUMNS)),
    )
