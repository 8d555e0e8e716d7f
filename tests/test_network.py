"""`lakehouse network` and `lakehouse path`: links within clearance, shortest chains, audited."""

from __future__ import annotations

import io
import json
import random
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import polars as pl
import pytest
from click.testing import Result
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import TEST_TASK, copy_lakehouse
from transforms.config import Environment
from transforms.delta_io import read_path, read_table
from transforms.governance.audit import AUDIT_LOG
from transforms.resolve.network import (
    MAX_PATHS,
    EntityNotVisible,
    NetworkRefused,
    neighbourhood,
    shortest_paths,
    to_graphml,
)

PURPOSE = "test of network questions"
GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"


def entities_frame(classes: dict[str, str]) -> pl.DataFrame:
    ids = sorted(classes)
    return pl.DataFrame(
        {
            "entity_id": ids,
            "given_name": [f"G{e.upper()}" for e in ids],
            "family_name": ["SMITH"] * len(ids),
            "date_of_birth": [None] * len(ids),
            "record_count": [1] * len(ids),
            "classification": [classes[e] for e in ids],
        },
        schema_overrides={"date_of_birth": pl.Date},
    )


def links_frame(rows: list[tuple[str, str, str] | tuple[str, str, str, str]]) -> pl.DataFrame:
    """(a, b, link_type[, classification]); weight and evidence follow from the pair."""
    return pl.DataFrame(
        {
            "entity_id_a": [r[0] for r in rows],
            "entity_id_b": [r[1] for r in rows],
            "link_type": [r[2] for r in rows],
            "weight": [float(i + 1) for i in range(len(rows))],
            "evidence": [f"{r[0]}~{r[1]} {r[2]}" for r in rows],
            "classification": [r[3] if len(r) == 4 else "OFFICIAL" for r in rows],
        }
    )


def official(*ids: str) -> dict[str, str]:
    return dict.fromkeys(ids, "OFFICIAL")


CHAIN = links_frame(
    [("a", "b", "shared_address"), ("b", "c", "shared_phone"), ("c", "d", "called")]
)


def hops_of(nodes: pl.DataFrame) -> dict[str, int]:
    return dict(zip(nodes["entity_id"], nodes["hops"], strict=True))


def pairs(edges: pl.DataFrame) -> set[tuple[str, str]]:
    return set(zip(edges["entity_id_a"], edges["entity_id_b"], strict=True))


# --- neighbourhood --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hops", "expected", "links"),
    [
        (1, {"a": 0, "b": 1}, {("a", "b")}),
        (2, {"a": 0, "b": 1, "c": 2}, {("a", "b"), ("b", "c")}),
        (3, {"a": 0, "b": 1, "c": 2, "d": 3}, {("a", "b"), ("b", "c"), ("c", "d")}),
        (9, {"a": 0, "b": 1, "c": 2, "d": 3}, {("a", "b"), ("b", "c"), ("c", "d")}),
    ],
)
def test_a_chain_is_followed_as_far_as_the_hops_allow(
    hops: int, expected: dict[str, int], links: set[tuple[str, str]]
) -> None:
    nodes, edges = neighbourhood(entities_frame(official(*"abcd")), CHAIN, "a", hops, "OFFICIAL")
    assert hops_of(nodes) == expected
    assert pairs(edges) == links
    assert edges.columns[:5] == ["entity_id_a", "entity_id_b", "link_type", "weight", "evidence"]
    assert nodes["given_name"].to_list() == [f"G{e.upper()}" for e in expected]


def test_links_are_followed_both_ways_from_the_middle() -> None:
    nodes, edges = neighbourhood(entities_frame(official(*"abcd")), CHAIN, "c", 1, "OFFICIAL")
    assert hops_of(nodes) == {"c": 0, "b": 1, "d": 1}
    assert edges.sort("link_type")["link_type"].to_list() == ["called", "shared_phone"]


def test_a_branch_reaches_every_arm_and_keeps_links_between_neighbours() -> None:
    links = links_frame(
        [
            ("a", "b", "shared_address"),
            ("a", "c", "called"),
            ("c", "d", "shared_phone"),
            ("b", "c", "called"),  # between two entities one hop out: a walk of 2 takes it
            ("d", "e", "called"),
        ]
    )
    nodes, edges = neighbourhood(entities_frame(official(*"abcde")), links, "a", 1, "OFFICIAL")
    assert hops_of(nodes) == {"a": 0, "b": 1, "c": 1}
    assert pairs(edges) == {("a", "b"), ("a", "c")}
    nodes, edges = neighbourhood(entities_frame(official(*"abcde")), links, "a", 2, "OFFICIAL")
    assert hops_of(nodes) == {"a": 0, "b": 1, "c": 1, "d": 2}
    assert pairs(edges) == {("a", "b"), ("a", "c"), ("b", "c"), ("c", "d")}


def test_an_entity_above_clearance_cuts_the_chain_and_is_never_returned() -> None:
    classes = {**official(*"abcd"), "c": "SECRET"}
    nodes, edges = neighbourhood(entities_frame(classes), CHAIN, "a", 5, "OFFICIAL")
    assert hops_of(nodes) == {"a": 0, "b": 1}
    assert pairs(edges) == {("a", "b")}
    nodes, _ = neighbourhood(entities_frame(classes), CHAIN, "a", 5, "SECRET")
    assert set(hops_of(nodes)) == set("abcd")


def test_a_link_above_clearance_is_neither_followed_nor_returned() -> None:
    links = links_frame([("a", "b", "shared_address"), ("b", "c", "called", "TOP_SECRET")])
    nodes, edges = neighbourhood(entities_frame(official(*"abc")), links, "a", 3, "SECRET")
    assert set(hops_of(nodes)) == {"a", "b"} and pairs(edges) == {("a", "b")}
    nodes, _ = neighbourhood(entities_frame(official(*"abc")), links, "a", 3, "TOP_SECRET")
    assert set(hops_of(nodes)) == {"a", "b", "c"}


def test_a_missing_classification_counts_as_above_every_clearance() -> None:
    entities = entities_frame(official(*"abcd")).with_columns(
        pl.when(pl.col("entity_id") == "b")
        .then(None)
        .otherwise(pl.col("classification"))
        .alias("classification")
    )
    nodes, _ = neighbourhood(entities, CHAIN, "a", 3, "TOP_SECRET")
    assert hops_of(nodes) == {"a": 0}


def test_a_start_above_clearance_reads_exactly_like_one_that_does_not_exist() -> None:
    classes = {**official(*"abcd"), "b": "SECRET"}
    with pytest.raises(EntityNotVisible) as hidden:
        neighbourhood(entities_frame(classes), CHAIN, "b", 1, "OFFICIAL", user="junior_analyst")
    with pytest.raises(EntityNotVisible) as missing:
        neighbourhood(entities_frame(classes), CHAIN, "zz", 1, "OFFICIAL", user="junior_analyst")
    assert str(hidden.value) == "no entity b visible to junior_analyst"
    assert str(missing.value) == str(hidden.value).replace(" b ", " zz ")


@pytest.mark.parametrize("hops", [0, -1])
def test_fewer_than_one_hop_is_refused(hops: int) -> None:
    with pytest.raises(NetworkRefused, match="--hops must be at least 1"):
        neighbourhood(entities_frame(official(*"abcd")), CHAIN, "a", hops, "OFFICIAL")


def random_graph(seed: int, nodes: int, links: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = random.Random(seed)
    ids = [f"E{i:04d}" for i in range(nodes)]
    rows: list[tuple[str, str, str] | tuple[str, str, str, str]] = []
    for _ in range(links):
        a, b = rng.sample(ids, 2)
        rows.append((a, b, rng.choice(["shared_address", "shared_phone", "called"])))
    classes = {e: rng.choice(["OFFICIAL", "OFFICIAL", "OFFICIAL", "SECRET"]) for e in ids}
    return entities_frame(classes), links_frame(rows)


def visible_nx(entities: pl.DataFrame, links: pl.DataFrame) -> nx.Graph:
    seen = set(entities.filter(pl.col("classification") == "OFFICIAL")["entity_id"])
    graph = nx.Graph()
    graph.add_nodes_from(seen)
    graph.add_edges_from((a, b) for a, b in pairs(links) if a in seen and b in seen)
    return graph


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_neighbourhood_agrees_with_networkx_on_a_random_graph(seed: int) -> None:
    entities, links = random_graph(seed, 400, 700)
    graph = visible_nx(entities, links)
    start = sorted(graph.nodes)[0]
    nodes, edges = neighbourhood(entities, links, start, 3, "OFFICIAL")
    assert hops_of(nodes) == nx.single_source_shortest_path_length(graph, start, cutoff=3)
    expected = {
        (a, b)
        for a, b in pairs(links)
        if graph.has_edge(a, b) and min(hops_of(nodes).get(a, 9), hops_of(nodes).get(b, 9)) < 3
    }
    assert pairs(edges) == expected


# --- shortest paths -------------------------------------------------------------------------------


def chains_of(edges: pl.DataFrame) -> list[list[str]]:
    chains: dict[int, list[str]] = {}
    for row in edges.unique(["path", "step"]).sort("path", "step").iter_rows(named=True):
        chains.setdefault(row["path"], [row["from_entity"]]).append(row["to_entity"])
    return [chains[p] for p in sorted(chains)]


def test_both_equal_shortest_paths_are_returned_and_a_longer_one_is_not() -> None:
    links = links_frame(
        [
            ("a", "b", "shared_address"),
            ("b", "d", "called"),
            ("c", "a", "called"),
            ("d", "c", "shared_phone"),
            ("a", "e", "called"),
            ("e", "f", "called"),
            ("f", "d", "called"),
        ]
    )
    paths = shortest_paths(entities_frame(official(*"abcdef")), links, "a", "d", "OFFICIAL")
    assert (paths.found, paths.listed, paths.hops, paths.capped) == (2, 2, 2, False)
    assert chains_of(paths.edges) == [["a", "b", "d"], ["a", "c", "d"]]
    step = paths.edges.filter((pl.col("path") == 2) & (pl.col("step") == 2)).row(0, named=True)
    assert (step["link_type"], step["evidence"]) == ("shared_phone", "d~c shared_phone")
    assert hops_of(paths.nodes) == {"a": 0, "b": 1, "c": 1, "d": 2}


def test_every_link_of_a_step_is_listed() -> None:
    links = links_frame([("a", "b", "shared_address"), ("a", "b", "called"), ("b", "c", "called")])
    paths = shortest_paths(entities_frame(official(*"abc")), links, "a", "c", "OFFICIAL")
    assert paths.found == 1
    first = paths.edges.filter(pl.col("step") == 1)
    assert first["link_type"].to_list() == ["called", "shared_address"]
    assert paths.union_edges().height == 3


def test_an_entity_above_clearance_in_the_middle_cuts_the_path() -> None:
    classes = {**official(*"abcd"), "c": "SECRET"}
    hidden = shortest_paths(entities_frame(classes), CHAIN, "a", "d", "OFFICIAL")
    assert (hidden.found, hidden.hops, hidden.edges.height, hidden.nodes.height) == (0, None, 0, 0)
    seen = shortest_paths(entities_frame(classes), CHAIN, "a", "d", "SECRET")
    assert chains_of(seen.edges) == [["a", "b", "c", "d"]] and seen.hops == 3


def test_a_detour_within_clearance_is_found_when_the_direct_way_is_hidden() -> None:
    links = links_frame(
        [("a", "b", "called", "TOP_SECRET"), ("a", "c", "called"), ("c", "b", "called")]
    )
    paths = shortest_paths(entities_frame(official(*"abc")), links, "a", "b", "SECRET")
    assert chains_of(paths.edges) == [["a", "c", "b"]]
    assert set(paths.edges["classification"]) == {"OFFICIAL"}


def test_max_hops_bounds_the_search() -> None:
    entities = entities_frame(official(*"abcd"))
    assert shortest_paths(entities, CHAIN, "a", "d", "OFFICIAL", max_hops=2).hops is None
    assert shortest_paths(entities, CHAIN, "a", "d", "OFFICIAL", max_hops=3).hops == 3
    with pytest.raises(NetworkRefused, match="--max-hops"):
        shortest_paths(entities, CHAIN, "a", "d", "OFFICIAL", max_hops=0)


def test_many_shortest_paths_are_all_counted_and_the_list_capped() -> None:
    middles = [f"m{i:02d}" for i in range(MAX_PATHS + 3)]
    rows: list[tuple[str, str, str] | tuple[str, str, str, str]] = [
        *((("a", m, "called")) for m in middles),
        *(((m, "z", "shared_address")) for m in middles),
    ]
    paths = shortest_paths(
        entities_frame(official("a", "z", *middles)), links_frame(rows), "a", "z", "OFFICIAL"
    )
    assert (paths.found, paths.listed, paths.capped) == (MAX_PATHS + 3, MAX_PATHS, True)
    assert [c[1] for c in chains_of(paths.edges)] == middles[:MAX_PATHS]


def test_either_end_above_clearance_is_not_visible() -> None:
    classes = {**official(*"abcd"), "d": "SECRET"}
    with pytest.raises(EntityNotVisible, match="no entity d visible to junior_analyst"):
        shortest_paths(entities_frame(classes), CHAIN, "a", "d", "OFFICIAL", user="junior_analyst")
    with pytest.raises(NetworkRefused, match="two different entities"):
        shortest_paths(entities_frame(classes), CHAIN, "a", "a", "OFFICIAL")


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_shortest_paths_agree_with_networkx_on_a_random_graph(seed: int) -> None:
    entities, links = random_graph(seed, 300, 420)
    graph = visible_nx(entities, links)
    rng = random.Random(seed)
    checked = 0
    for _ in range(40):
        source, target = rng.sample(sorted(graph.nodes), 2)
        paths = shortest_paths(entities, links, source, target, "OFFICIAL", limit=1000)
        if not nx.has_path(graph, source, target):
            assert paths.hops is None
            continue
        expected = sorted(nx.all_shortest_paths(graph, source, target))
        if len(expected[0]) - 1 > 6:
            assert paths.hops is None
            continue
        assert paths.hops == len(expected[0]) - 1 and paths.found == len(expected)
        assert sorted(chains_of(paths.edges)) == expected
        checked += 1
    assert checked >= 10


# --- GraphML --------------------------------------------------------------------------------------


def test_graphml_parses_with_the_entities_and_links_as_attributes() -> None:
    links = links_frame(
        [("a", "b", "shared_address"), ("a", "b", "called"), ("b", "c", "shared_phone")]
    )
    entities = entities_frame(official(*"abc")).with_columns(
        pl.when(pl.col("entity_id") == "a")
        .then(pl.date(1980, 2, 29))
        .otherwise(None)
        .alias("date_of_birth")
    )
    nodes, edges = neighbourhood(entities, links, "a", 2, "OFFICIAL")
    root = ET.fromstring(to_graphml(nodes, edges).encode())
    keys = {k.get("id"): (k.get("for"), k.get("attr.name")) for k in root.iter(f"{GRAPHML}key")}
    assert {name for kind, name in keys.values() if kind == "node"} >= {
        "given_name",
        "family_name",
        "date_of_birth",
        "record_count",
        "classification",
    }
    assert {name for kind, name in keys.values() if kind == "edge"} >= {
        "link_type",
        "weight",
        "evidence",
    }

    def data(element: ET.Element) -> dict[str, str]:
        return {keys[d.get("key")][1]: d.text or "" for d in element.iter(f"{GRAPHML}data")}

    graph_nodes = {n.get("id"): data(n) for n in root.iter(f"{GRAPHML}node")}
    assert set(graph_nodes) == {"a", "b", "c"}
    assert graph_nodes["a"]["date_of_birth"] == "1980-02-29"
    assert graph_nodes["b"]["given_name"] == "GB" and "date_of_birth" not in graph_nodes["b"]
    graph_edges = sorted(
        (e.get("source"), e.get("target"), data(e)["link_type"], data(e)["evidence"])
        for e in root.iter(f"{GRAPHML}edge")
    )
    assert graph_edges == [
        ("a", "b", "called", "a~b called"),
        ("a", "b", "shared_address", "a~b shared_address"),
        ("b", "c", "shared_phone", "b~c shared_phone"),
    ]


# --- the command line against a built lakehouse (a private copy: it writes the audit log) ---------


@pytest.fixture(scope="module")
def lakehouse(
    built: Environment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Environment]:
    target = tmp_path_factory.mktemp("network") / "lakehouse"
    with pytest.MonkeyPatch.context() as patch:
        yield copy_lakehouse(built, target, patch)


@pytest.fixture()
def cli_env(lakehouse: Environment, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Environment:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(lakehouse.home))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(lakehouse.catalogue_dir))
    monkeypatch.chdir(tmp_path)
    return lakehouse


def run(*args: str, user: str = "analyst", purpose: str = PURPOSE) -> Result:
    return CliRunner().invoke(
        app, [*args, "--user", user, "--purpose", purpose, "--task", TEST_TASK]
    )


def last_audit(env: Environment) -> dict[str, object]:
    log = read_path(env.table_path(AUDIT_LOG))
    assert log is not None
    return log.sort("at").row(-1, named=True)


def gold(env: Environment) -> tuple[pl.DataFrame, pl.DataFrame]:
    return read_table(env, "gold.entities"), read_table(env, "gold.entity_links")


def official_ids(entities: pl.DataFrame) -> set[str]:
    return set(entities.filter(pl.col("classification") == "OFFICIAL")["entity_id"])


def busiest(links: pl.DataFrame, among: set[str]) -> str:
    """The entity with most links to entities in `among` (and itself in `among`)."""
    inside = links.filter(pl.col("entity_id_a").is_in(among) & pl.col("entity_id_b").is_in(among))
    ends = pl.concat([inside["entity_id_a"], inside["entity_id_b"]])
    return str(ends.value_counts(sort=True).row(0)[0])


@pytest.mark.slow
def test_network_as_json_is_printed_and_audited(cli_env: Environment) -> None:
    entities, links = gold(cli_env)
    start = busiest(links, official_ids(entities))
    result = run("network", start, "--hops", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    nodes = {n["entity_id"]: n for n in document["nodes"]}
    assert nodes[start]["hops"] == 0 and len(nodes) > 1
    assert {n["hops"] for n in nodes.values()} <= {0, 1, 2}
    assert set(document["nodes"][0]) >= {"given_name", "family_name", "record_count"}
    for edge in document["edges"]:
        assert {edge["entity_id_a"], edge["entity_id_b"]} <= set(nodes)
        assert edge["link_type"] in {"shared_address", "shared_phone", "called"}
        assert edge["evidence"]
    assert "within 2 hops" in result.stderr
    last = last_audit(cli_env)
    assert (last["action"], last["user"], last["purpose"], last["outcome"]) == (
        "network",
        "analyst",
        PURPOSE,
        "allowed",
    )
    assert last["tables"] == ["gold.entities", "gold.entity_links"]
    assert last["rows"] == len(document["nodes"]) + len(document["edges"])
    assert start in str(last["sql"])


@pytest.mark.slow
def test_network_and_path_respect_the_users_clearance(cli_env: Environment) -> None:
    entities, links = gold(cli_env)
    classes = dict(zip(entities["entity_id"], entities["classification"], strict=True))
    mixed = sorted(
        (a, b) if classes[a] == "OFFICIAL" else (b, a)
        for a, b in pairs(links)
        if {classes[a], classes[b]} == {"OFFICIAL", "SECRET"}
    )
    assert mixed, "the built lakehouse links OFFICIAL entities to SECRET ones"
    start, hidden = mixed[0]

    def node_ids(user: str, hops: int) -> set[str]:
        result = run("network", start, "--hops", str(hops), "--format", "json", user=user)
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        if user == "junior_analyst":
            assert {n["classification"] for n in document["nodes"]} == {"OFFICIAL"}
            assert {e["classification"] for e in document["edges"]} <= {"OFFICIAL"}
        return {n["entity_id"] for n in document["nodes"]}

    assert hidden in node_ids("analyst", 1) and hidden not in node_ids("junior_analyst", 1)
    expected, _ = neighbourhood(entities, links, start, 3, "OFFICIAL")
    assert node_ids("junior_analyst", 3) == set(expected["entity_id"])
    assert node_ids("junior_analyst", 3) < node_ids("analyst", 3)

    for args in (("network", hidden), ("path", start, hidden)):
        refused = run(*args, user="junior_analyst")
        assert refused.exit_code != 0
        assert refused.stderr.strip() == f"lakehouse: no entity {hidden} visible to junior_analyst"
        last = last_audit(cli_env)
        assert (last["action"], last["user"], last["outcome"]) == (
            args[0],
            "junior_analyst",
            "refused",
        )
    assert run("path", start, hidden, "--format", "json").exit_code == 0


@pytest.mark.slow
def test_network_csv_table_and_graphml(cli_env: Environment) -> None:
    entities, links = gold(cli_env)
    start = busiest(links, official_ids(entities))
    as_json = json.loads(run("network", start, "--format", "json").stdout)
    as_csv = run("network", start, "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    frame = pl.read_csv(io.StringIO(as_csv.stdout))
    assert frame.columns[0] == "record"
    assert frame.filter(pl.col("record") == "node").height == len(as_json["nodes"])
    assert frame.filter(pl.col("record") == "edge").height == len(as_json["edges"])
    table = run("network", start)
    assert table.exit_code == 0 and start in table.stdout and "links" in table.stdout
    graphml = run("network", start, "--format", "graphml")
    assert graphml.exit_code == 0, graphml.output
    root = ET.fromstring(graphml.stdout.encode())
    assert {n.get("id") for n in root.iter(f"{GRAPHML}node")} == {
        n["entity_id"] for n in as_json["nodes"]
    }
    assert len(list(root.iter(f"{GRAPHML}edge"))) == len(as_json["edges"])


@pytest.mark.slow
def test_path_lists_the_chains_between_two_entities_and_is_audited(cli_env: Environment) -> None:
    entities, links = gold(cli_env)
    start = busiest(links, official_ids(entities))
    around = json.loads(run("network", start, "--hops", "2", "--format", "json").stdout)
    two_away = sorted(n["entity_id"] for n in around["nodes"] if n["hops"] == 2)
    one_away = sorted(n["entity_id"] for n in around["nodes"] if n["hops"] == 1)
    target = (two_away or one_away)[0]
    result = run("path", start, target, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    edges = pl.DataFrame(document["edges"])
    hops = 2 if two_away else 1
    assert edges["step"].max() == hops
    for chain in chains_of(edges):
        assert chain[0] == start and chain[-1] == target and len(chain) == hops + 1
    assert f"{hops} hops from {start} to {target}" in result.stderr
    last = last_audit(cli_env)
    assert (last["action"], last["outcome"], last["rows"]) == ("path", "allowed", edges.height)
    assert f"{start} {target}" in str(last["sql"])
    table = run("path", start, target)
    assert table.exit_code == 0 and "evidence" in table.stdout
    graphml = run("path", start, target, "--format", "graphml")
    ids = {n.get("id") for n in ET.fromstring(graphml.stdout.encode()).iter(f"{GRAPHML}node")}
    assert {start, target} <= ids


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "user", "reason"),
    [
        (
            ("network", "E-NO-SUCH", "--hops", "1"),
            "analyst",
            "no entity E-NO-SUCH visible to analyst",
        ),
        (("network", "{start}", "--hops", "0"), "analyst", "--hops must be at least 1"),
        (("network", "{start}", "--format", "xml"), "analyst", "--format must be"),
        (("network", "{start}"), "mallory", "unknown user 'mallory'"),
        (("path", "{start}", "E-NO-SUCH"), "analyst", "no entity E-NO-SUCH visible to analyst"),
        (("path", "{start}", "{start}", "--format", "dot"), "analyst", "--format must be"),
        (("path", "{start}", "{start}"), "analyst", "two different entities"),
    ],
)
def test_bad_requests_fail_with_one_line_and_are_audited(
    cli_env: Environment, args: tuple[str, ...], user: str, reason: str
) -> None:
    entities, links = gold(cli_env)
    start = busiest(links, official_ids(entities))
    result = run(*(a.replace("{start}", start) for a in args), user=user)
    assert result.exit_code != 0
    assert reason in result.stderr and len(result.stderr.strip().splitlines()) == 1
    last = last_audit(cli_env)
    assert (last["action"], last["user"], last["outcome"]) == (args[0], user, "refused")
    assert reason in str(last["reason"]) and last["rows"] == 0
