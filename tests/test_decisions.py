"""Stewards' decisions as constraints: standing decisions, withdrawals, contradictions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pyarrow as pa
import pytest

from transforms.config import Environment
from transforms.resolve.decisions import (
    DECISION_SCHEMA,
    DecisionRefused,
    constraints,
    read_decisions,
    record_decision,
)

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _log(rows: list[tuple[str, str, list[str], list[str] | None, str | None]]) -> pl.DataFrame:
    """decision_id, decision, record_keys, apart_from, withdraws; decided a minute apart."""
    dicts = [
        {
            "decision_id": i,
            "decision": kind,
            "record_keys": keys,
            "entity_id": None,
            "user": "steward",
            "reason": "test",
            "decided_at": T0 + timedelta(minutes=n),
            "withdraws": withdraws,
            "apart_from": apart or [],
        }
        for n, (i, kind, keys, apart, withdraws) in enumerate(rows)
    ]
    frame = pl.from_arrow(pa.Table.from_pylist(dicts, schema=DECISION_SCHEMA))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _pairs(frame: pl.DataFrame) -> set[tuple[str, str]]:
    return set(frame.select("unique_id_l", "unique_id_r").iter_rows())


def test_withdrawn_decisions_no_longer_bind() -> None:
    log = _log(
        [
            ("D1", "cannot_link", ["b", "a"], None, None),
            ("D2", "must_link", ["c", "d"], None, None),
            ("D3", "withdraw", [], None, "D1"),
        ]
    )
    decided = constraints(log)
    assert _pairs(decided.cannot_link) == set()
    assert _pairs(decided.must_link) == {("c", "d")}
    assert decided.records == {"a", "b", "c", "d"}  # withdrawn ones too: re-clustered


def test_a_must_link_against_a_cannot_link_through_a_chain_is_a_conflict() -> None:
    log = _log(
        [
            ("D1", "cannot_link", ["a", "c"], None, None),
            ("D2", "must_link", ["a", "b"], None, None),
            ("D3", "must_link", ["b", "c"], None, None),
        ]
    )
    decided = constraints(log)
    assert _pairs(decided.must_link) == {("a", "b")}
    assert [c.decision_id for c in decided.conflicts] == ["D3"]
    assert decided.conflicts[0].blocked_by == ("D1",)


def test_a_split_keeps_its_records_together_and_apart_from_the_rest() -> None:
    decided = constraints(_log([("D1", "split", ["r2", "r3"], ["r1", "r4"], None)]))
    assert _pairs(decided.must_link) == {("r2", "r3")}
    assert _pairs(decided.cannot_link) == {("r1", "r2"), ("r1", "r3"), ("r2", "r4"), ("r3", "r4")}


def test_recording_checks_keys_and_withdrawals(env: Environment) -> None:
    known = pl.DataFrame({"entity_id": ["E1", "E1", "E2"], "record_key": ["a", "b", "c"]})
    with pytest.raises(DecisionRefused, match="unknown record key zz"):
        record_decision(
            env,
            "cannot_link",
            user="steward",
            reason="r",
            record_keys=["a", "zz"],
            known_records=known,
        )
    with pytest.raises(DecisionRefused, match="--reason"):
        record_decision(
            env,
            "cannot_link",
            user="steward",
            reason=" ",
            record_keys=["a", "b"],
            known_records=known,
        )
    with pytest.raises(DecisionRefused, match="not a record of entity E1"):
        record_decision(
            env,
            "split",
            user="steward",
            reason="r",
            record_keys=["c"],
            entity_id="E1",
            known_records=known,
        )
    first = record_decision(
        env,
        "cannot_link",
        user="steward",
        reason="twins",
        record_keys=["b", "a"],
        known_records=known,
    )
    split = record_decision(
        env,
        "split",
        user="steward",
        reason="r",
        record_keys=["b"],
        entity_id="E1",
        known_records=known,
    )
    assert split["apart_from"] == ["a"]
    record_decision(
        env, "withdraw", user="steward", reason="wrong", withdraws=str(first["decision_id"])
    )
    with pytest.raises(DecisionRefused, match="already withdrawn"):
        record_decision(
            env, "withdraw", user="steward", reason="again", withdraws=str(first["decision_id"])
        )
    log = read_decisions(env)
    assert log["decision"].to_list() == ["cannot_link", "split", "withdraw"]
    assert _pairs(constraints(log).cannot_link) == {("a", "b")}  # the split's, not D1's
