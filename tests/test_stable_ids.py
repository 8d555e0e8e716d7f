"""The stable-id rule on hand-made clusters: carry, split, merge, create, retire."""

from __future__ import annotations

import polars as pl

from transforms.resolve.stable_ids import assign_entity_ids, new_entity_id


def _clusters(groups: list[list[str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"unique_id": key, "cluster_id": str(i)}
            for i, group in enumerate(groups)
            for key in group
        ]
    )


def _previous(groups: dict[str, list[str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"entity_id": e, "record_key": k} for e, keys in groups.items() for k in keys]
    )


def _ids(assigned: pl.DataFrame) -> dict[str, str]:
    return dict(zip(assigned["record_key"], assigned["entity_id"], strict=True))


def test_first_run_creates_deterministic_ids() -> None:
    assigned, changes = assign_entity_ids(_clusters([["a", "b"], ["c"]]), None)
    assert _ids(assigned) == {
        "a": new_entity_id("a"),
        "b": new_entity_id("a"),
        "c": new_entity_id("c"),
    }
    assert changes["change"].to_list() == ["created", "created"]


def test_overlapping_cluster_keeps_its_id_when_it_grows() -> None:
    assigned, changes = assign_entity_ids(
        _clusters([["a", "b", "d"], ["c"]]), _previous({"E1": ["a", "b"], "E2": ["c"]})
    )
    assert _ids(assigned) == {"a": "E1", "b": "E1", "d": "E1", "c": "E2"}
    assert changes.height == 0


def test_split_keeps_id_on_larger_part_and_records_the_split() -> None:
    assigned, changes = assign_entity_ids(
        _clusters([["a", "b"], ["c"]]), _previous({"E1": ["a", "b", "c"]})
    )
    ids = _ids(assigned)
    assert ids["a"] == ids["b"] == "E1" and ids["c"] == new_entity_id("c")
    assert changes.to_dicts() == [
        {
            "change": "split",
            "entity_id": new_entity_id("c"),
            "related_entity_id": "E1",
            "records": 1,
        }
    ]


def test_merge_keeps_larger_id_and_records_the_merge() -> None:
    assigned, changes = assign_entity_ids(
        _clusters([["a", "b", "c"]]), _previous({"E1": ["a", "b"], "E2": ["c"]})
    )
    assert set(_ids(assigned).values()) == {"E1"}
    assert changes.to_dicts() == [
        {"change": "merged", "entity_id": "E2", "related_entity_id": "E1", "records": 1}
    ]


def test_entity_whose_records_vanished_is_retired() -> None:
    _, changes = assign_entity_ids(_clusters([["a"]]), _previous({"E1": ["a"], "E2": ["z"]}))
    assert changes.to_dicts() == [
        {"change": "retired", "entity_id": "E2", "related_entity_id": None, "records": 0}
    ]


def test_tie_goes_to_the_lower_previous_id() -> None:
    assigned, _ = assign_entity_ids(_clusters([["a", "b"]]), _previous({"E2": ["a"], "E1": ["b"]}))
    assert set(_ids(assigned).values()) == {"E1"}
