"""Stewards' decisions (`ops.er_decisions`): recorded once, honoured by every run before the model.

A steward who knows two records are one person (`must_link`), are not (`cannot_link`), or that
some records of an entity belong to someone else (`split`) records it here; nothing edits gold
by hand. The table is append-only: a decision is never changed, only withdrawn by a later
`withdraw` row, so the log says who decided what, when and why.

Every resolution run, incremental or full, under any model, turns the standing decisions into
two sets of record pairs (`constraints`): pairs that must share an entity and pairs that must
not. Clustering treats cannot-links as it treats two records of a duplicate-free dataset (never
in one entity, even through a third record) and merges must-links before any evidence is
weighed. A must-link that would join records a cannot-link keeps apart is not applied and is
reported, since the steward's two decisions disagree and only a steward can settle it.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, get_args

import polars as pl
import pyarrow as pa

from transforms.config import Environment
from transforms.delta_io import read_ledger
from transforms.publish import append_frame

DECISIONS_TABLE = "ops.er_decisions"
Decision = Literal["must_link", "cannot_link", "split", "withdraw"]
DECISIONS: tuple[str, ...] = get_args(Decision)
DECISION_SCHEMA = pa.schema(
    [
        ("decision_id", pa.string()),
        ("decision", pa.string()),
        ("record_keys", pa.list_(pa.string())),
        ("entity_id", pa.string()),
        ("user", pa.string()),
        ("reason", pa.string()),
        ("decided_at", pa.timestamp("us", tz="UTC")),
        ("withdraws", pa.string()),
        # extension (SCHEMA.md: record_keys are the records a split takes out; these are the
        # records of the entity they were taken out of, at the time, kept apart from them)
        ("apart_from", pa.list_(pa.string())),
    ]
)
PAIR_SCHEMA = {"unique_id_l": pl.String, "unique_id_r": pl.String, "decision_id": pl.String}


class DecisionRefused(ValueError):
    """A decision that cannot be recorded as given (unknown record, withdrawn twice, ...)."""


@dataclass(frozen=True)
class Conflict:
    """A must-link not applied because standing cannot-links keep its records apart."""

    decision_id: str
    record_keys: tuple[str, str]
    blocked_by: tuple[str, ...]  # the cannot-link (or split) decisions in the way

    def describe(self) -> str:
        return (
            f"must-link {self.decision_id} ({self.record_keys[0]}, {self.record_keys[1]}) "
            f"not applied: it contradicts {', '.join(self.blocked_by)}"
        )


@dataclass(frozen=True)
class Constraints:
    """The standing decisions as record pairs (unique_id_l < unique_id_r, decision_id)."""

    must_link: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PAIR_SCHEMA))
    cannot_link: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PAIR_SCHEMA))
    conflicts: tuple[Conflict, ...] = ()
    records: frozenset[str] = frozenset()  # every record a decision ever named, withdrawn too

    @property
    def empty(self) -> bool:
        return self.must_link.height == 0 and self.cannot_link.height == 0


def read_decisions(env: Environment) -> pl.DataFrame:
    """Every row of `ops.er_decisions`, oldest first (empty, with the schema, before the first)."""
    return read_ledger(env.table_path(DECISIONS_TABLE), DECISION_SCHEMA).sort(
        "decided_at", "decision_id"
    )


def standing(decisions: pl.DataFrame) -> pl.DataFrame:
    """The decisions in force: not withdrawals themselves and not withdrawn, oldest first."""
    withdrawn = decisions.filter(pl.col("decision") == "withdraw")["withdraws"].implode()
    return decisions.filter(
        (pl.col("decision") != "withdraw") & ~pl.col("decision_id").is_in(withdrawn)
    ).sort("decided_at", "decision_id")


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def constraints(decisions: pl.DataFrame) -> Constraints:
    """Must-link and cannot-link pairs of the standing decisions, and the must-links refused.

    A split keeps the records it took out apart from the rest of the entity they were in, and
    together. Must-links are applied oldest first, as a union of groups; one whose two groups
    are kept apart by a cannot-link between any of their members is a conflict, not applied.
    """
    named = frozenset(
        key for keys in decisions["record_keys"].to_list() if keys for key in keys
    ) | frozenset(key for keys in decisions["apart_from"].to_list() if keys for key in keys)
    rows = standing(decisions)
    cannot: dict[tuple[str, str], str] = {}
    wanted: list[tuple[tuple[str, str], str]] = []
    for decision_id, kind, keys, apart in rows.select(
        "decision_id", "decision", "record_keys", "apart_from"
    ).iter_rows():
        keys = sorted(set(keys or []))
        if kind == "cannot_link":
            for a, b in itertools.combinations(keys, 2):
                cannot.setdefault(_pair(a, b), decision_id)
        elif kind == "must_link":
            wanted.extend((_pair(keys[0], b), decision_id) for b in keys[1:])
        elif kind == "split":
            for a, b in itertools.product(keys, sorted(set(apart or []))):
                if a != b:
                    cannot.setdefault(_pair(a, b), decision_id)
            wanted.extend((_pair(keys[0], b), decision_id) for b in keys[1:])
    accepted, conflicts = _apply_must_links(wanted, cannot)
    return Constraints(
        must_link=_pairs(accepted),
        cannot_link=_pairs(cannot.items()),
        conflicts=tuple(conflicts),
        records=named,
    )


def _apply_must_links(
    wanted: Sequence[tuple[tuple[str, str], str]], cannot: dict[tuple[str, str], str]
) -> tuple[list[tuple[tuple[str, str], str]], list[Conflict]]:
    """Union the must-link pairs in order, skipping any that would join cannot-linked records."""
    group: dict[str, set[str]] = {}
    accepted: list[tuple[tuple[str, str], str]] = []
    conflicts: list[Conflict] = []
    for (a, b), decision_id in wanted:
        left, right = group.get(a, {a}), group.get(b, {b})
        if left is right:
            accepted.append(((a, b), decision_id))
            continue
        blocking = sorted(
            {cannot[_pair(x, y)] for x in left for y in right if _pair(x, y) in cannot}
        )
        if blocking:
            conflicts.append(Conflict(decision_id, (a, b), tuple(blocking)))
            continue
        joined = left | right
        for key in joined:
            group[key] = joined
        accepted.append(((a, b), decision_id))
    return accepted, conflicts


def _pairs(items: Iterable[tuple[tuple[str, str], str]]) -> pl.DataFrame:
    rows = [(a, b, decision_id) for (a, b), decision_id in items]
    return pl.DataFrame(rows, schema=PAIR_SCHEMA, orient="row").sort("unique_id_l", "unique_id_r")


def load_constraints(env: Environment) -> Constraints:
    """`constraints` of the decisions recorded in this lakehouse."""
    return constraints(read_decisions(env))


def record_decision(
    env: Environment,
    decision: Decision,
    *,
    user: str,
    reason: str,
    record_keys: Sequence[str] = (),
    entity_id: str | None = None,
    withdraws: str | None = None,
    known_records: pl.DataFrame | None = None,
) -> dict[str, object]:
    """Check and append one decision (one Delta commit); returns the row written.

    `known_records` (entity_id, record_key: the current gold.entity_records) is what the keys
    and entity are checked against, and what a split keeps the taken records apart from.
    """
    if decision not in DECISIONS:
        raise DecisionRefused(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if not reason.strip():
        raise DecisionRefused("--reason must say why the decision is right")
    keys = list(dict.fromkeys(record_keys))
    apart: list[str] = []
    decisions = read_decisions(env)
    if decision == "withdraw":
        withdraws = _check_withdrawal(decisions, withdraws)
    else:
        records = known_records if known_records is not None else pl.DataFrame()
        known = set(records["record_key"].to_list()) if records.height else set()
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise DecisionRefused(f"unknown record key {unknown[0]}: not in gold.entity_records")
        if decision == "split":
            if entity_id is None:
                raise DecisionRefused(
                    "a split names the entity (decide split ENTITY --records ...)"
                )
            members = set(records.filter(pl.col("entity_id") == entity_id)["record_key"].to_list())
            if not members:
                raise DecisionRefused(f"unknown entity {entity_id}: not in gold.entity_records")
            outside = [k for k in keys if k not in members]
            if outside:
                raise DecisionRefused(f"record {outside[0]} is not a record of entity {entity_id}")
            apart = sorted(members - set(keys))
            if not keys or not apart:
                raise DecisionRefused(
                    f"a split takes some, not all, of entity {entity_id}'s {len(members)} records"
                )
        elif len(keys) != 2:
            raise DecisionRefused(f"a {decision.replace('_', '-')} names two different record keys")
    row = {
        "decision_id": "D" + uuid.uuid4().hex[:12].upper(),
        "decision": decision,
        "record_keys": sorted(keys),
        "entity_id": entity_id,
        "user": user,
        "reason": " ".join(reason.split()),
        "decided_at": datetime.now(UTC),
        "withdraws": withdraws,
        "apart_from": apart,
    }
    frame = pl.from_arrow(pa.Table.from_pylist([row], schema=DECISION_SCHEMA))
    assert isinstance(frame, pl.DataFrame)
    append_frame(env, DECISIONS_TABLE, frame, run_id=str(row["decision_id"]))
    return row


def _check_withdrawal(decisions: pl.DataFrame, withdraws: str | None) -> str:
    if not withdraws:
        raise DecisionRefused("decide withdraw names the decision id to withdraw")
    target = decisions.filter(pl.col("decision_id") == withdraws)
    if target.height == 0:
        raise DecisionRefused(f"unknown decision {withdraws}: not in {DECISIONS_TABLE}")
    if target["decision"][0] == "withdraw":
        raise DecisionRefused(f"{withdraws} is a withdrawal; record the decision again instead")
    if withdraws not in standing(decisions)["decision_id"].to_list():
        raise DecisionRefused(f"decision {withdraws} is already withdrawn")
    return withdraws
