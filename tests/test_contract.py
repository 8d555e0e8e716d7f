"""The shared contract is written once (transforms/contract.py); everything else agrees with it."""

from __future__ import annotations

import ast
from pathlib import Path

import polars as pl
import yaml

from transforms import contract
from transforms.config import PROJECT_ROOT
from transforms.quality.suites import TABLES

TRANSFORMS = PROJECT_ROOT / "transforms"


def test_tables_keys_and_levels_hang_together() -> None:
    assert set(contract.CHILDREN_OF_PERSONS) <= set(contract.SILVER_TABLES)
    assert set(contract.LINEAGE_CHECKED) <= set(contract.SILVER_TABLES)
    assert set(contract.AUDITED_GOLD) <= set(contract.GOLD_TABLES)
    assert set(contract.TABLE_KEYS) == set(contract.SILVER_TABLES) | set(contract.AUDITED_GOLD)
    assert contract.table_key("silver.comms_events") == "event_key"
    assert contract.table_key("entity_links") == "entity_id_a"
    assert contract.CLASSIFICATIONS == ("OFFICIAL", "SECRET", "TOP_SECRET")
    assert [contract.CLASSIFICATION_RANK[c] for c in contract.CLASSIFICATIONS] == [0, 1, 2]
    assert contract.highest(["SECRET", "OFFICIAL"]) == "SECRET"
    assert contract.within("OFFICIAL", "SECRET") and not contract.within("TOP_SECRET", "SECRET")


def test_an_unknown_or_missing_level_ranks_above_every_clearance() -> None:
    frame = pl.DataFrame({"c": ["OFFICIAL", "TOP_SECRET", "CONFIDENTIAL", None]})
    ranks = frame.select(contract.rank_expr("c"))["c"].to_list()
    assert ranks == [0, 2, contract.ABOVE_ALL, contract.ABOVE_ALL]
    assert contract.ABOVE_ALL > max(contract.CLASSIFICATION_RANK.values())


def test_the_suites_follow_the_contract() -> None:
    silver = [s.table for s in TABLES if s.layer == "silver"]
    gold = [s.table for s in TABLES if s.layer == "gold"]
    assert tuple(silver) == contract.SILVER_TABLES
    assert set(gold) == set(contract.AUDITED_GOLD)
    for spec in TABLES:
        assert spec.sample_key == contract.TABLE_KEYS[spec.table]
        assert spec.accepted["classification"] == contract.CLASSIFICATIONS
        if "link_type" in spec.accepted:
            assert spec.accepted["link_type"] == contract.LINK_TYPES


def test_the_dbt_silver_tests_follow_the_contract() -> None:
    """`_silver.yml` cannot import Python: its models, keys and accepted levels must agree."""
    models = yaml.safe_load(
        (PROJECT_ROOT / "dbt_project" / "models" / "silver" / "_silver.yml").read_text()
    )["models"]
    by_name = {m["name"]: m for m in models}
    assert set(contract.SILVER_TABLES) <= set(by_name)
    for table in contract.LINEAGE_CHECKED:  # one row per key: the key column is unique
        columns = {c["name"]: c for c in by_name[table]["columns"]}
        assert "unique" in columns[contract.TABLE_KEYS[table]]["data_tests"], table
    for model in models:
        for column in model.get("columns", []):
            if column["name"] != "classification":
                continue
            accepted = [
                t["accepted_values"]["arguments"]["values"]
                for t in column.get("data_tests", [])
                if isinstance(t, dict) and "accepted_values" in t
            ]
            assert accepted == [list(contract.CLASSIFICATIONS)], model["name"]


def _imports(path: Path) -> set[str]:
    """Every module a file imports (at any depth, lazily or not)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_resolve_imports_nothing_from_governance() -> None:
    """Governance may use resolve (destruction rebuilds gold); never the other way round."""
    offending = {
        str(path.relative_to(PROJECT_ROOT)): sorted(
            n for n in _imports(path) if n.startswith("transforms.governance")
        )
        for path in sorted((TRANSFORMS / "resolve").glob("*.py"))
    }
    assert {k: v for k, v in offending.items() if v} == {}


def test_no_module_repeats_the_classification_levels() -> None:
    """The levels are spelt out only in the contract (a string such as "TOP_SECRET" elsewhere
    would be a second copy to keep in step)."""
    repeats = []
    for path in sorted(TRANSFORMS.rglob("*.py")):
        if path.name == "contract.py" or "generate" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in ("SECRET", "TOP_SECRET"):
                repeats.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert repeats == []
