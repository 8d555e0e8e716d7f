"""Classification follows the lineage (high-water mark) and is lowered only by a recorded act."""

from __future__ import annotations

import dagster as dg
import pytest
from typer.testing import CliRunner

from orchestration.classification import FILTER_TAG, asset_classifications
from orchestration.cli import app
from transforms.config import Environment
from transforms.delta_io import read_table
from transforms.governance.classification import propagate, reclassifications

PARENTS = {
    "bronze/a": set(),
    "bronze/b": set(),
    "stg/a": {"bronze/a"},
    "stg/b": {"bronze/b"},
    "silver/all": {"stg/a", "stg/b"},
    "gold/x": {"silver/all"},
}
ROOTS = {"bronze/a": "OFFICIAL", "bronze/b": "SECRET"}


def test_high_water_mark_propagates_down_the_graph() -> None:
    levels = propagate(PARENTS, ROOTS)
    assert levels == {
        "bronze/a": "OFFICIAL",
        "bronze/b": "SECRET",
        "stg/a": "OFFICIAL",
        "stg/b": "SECRET",
        "silver/all": "SECRET",
        "gold/x": "SECRET",
    }


def test_only_an_explicit_override_lowers_and_descendants_follow() -> None:
    levels = propagate(PARENTS, ROOTS, {"silver/all": "OFFICIAL"})
    assert levels["silver/all"] == "OFFICIAL" and levels["gold/x"] == "OFFICIAL"
    assert levels["stg/b"] == "SECRET"


def test_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="cycle"):
        propagate({"a": {"b"}, "b": {"a"}}, {})


def test_every_asset_of_the_real_graph_carries_its_classification() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.tags["classification"] in {"OFFICIAL", "SECRET", "TOP_SECRET"}, key
        if FILTER_TAG in node.tags:  # a partner cut filters its rows to a declared clearance
            assert node.tags["classification"] == node.tags[FILTER_TAG]
            continue
        for parent in node.parent_keys:
            rank = {"OFFICIAL": 0, "SECRET": 1, "TOP_SECRET": 2}
            assert (
                rank[node.tags["classification"]] >= rank[graph.get(parent).tags["classification"]]
            ), key
    assert (
        graph.get(dg.AssetKey(["dbt", "staging", "stg_electoral_roll"])).tags["classification"]
        == "OFFICIAL"
    )
    assert graph.get(dg.AssetKey(["gold", "entities"])).tags["classification"] == "SECRET"


def test_reclassify_is_recorded(env: Environment) -> None:
    result = CliRunner().invoke(
        app,
        [
            "reclassify",
            "silver/addresses",
            "--to",
            "OFFICIAL",
            "--user",
            "steward",
            "--reason",
            "reviewed",
        ],
    )
    assert result.exit_code == 0, result.output
    record = read_table(env, "ops.reclassifications").row(0, named=True)
    assert record["from_classification"] == "SECRET" and record["to_classification"] == "OFFICIAL"
    assert reclassifications(env) == {"silver/addresses": "OFFICIAL"}
    from orchestration.runner import load_definitions

    defs = load_definitions()  # loaded once: the reclassification needs no reload
    assert asset_classifications(defs)["silver/addresses"] == "SECRET"  # lineage alone
    assert asset_classifications(defs, reclassifications(env))["silver/addresses"] == "OFFICIAL"
    refused = CliRunner().invoke(
        app,
        ["reclassify", "silver/addresses", "--to", "RESTRICTED", "--user", "s", "--reason", "r"],
    )
    assert refused.exit_code != 0
