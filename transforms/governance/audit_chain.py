"""Verify the `ops.audit_log` hash chain and say where it breaks.

`verify_chain` recomputes every chained row's hash in `seq` order (the canonical form is in
`transforms.governance.audit`) and classifies each break:

- `edited`: the stored `row_hash` differs from the recomputed one (a field was changed);
- `deleted`: a `seq` is missing, or a row's `prev_hash` is not the previous row's `row_hash` (rows
  removed and the rest renumbered, or the previous row replaced with a recomputed hash), or the
  log ends before the row its newest audit commit recorded;
- `reordered`: a row's `prev_hash` is the `row_hash` of a row other than its predecessor;
- `inserted`: a second row with the same `seq`, a row without chain fields dated after the
  chain began, or rows after the head its newest audit commit recorded.

Rows written before the chain existed (no `seq`) and dated before its first row are reported as
unchained legacy rows, not as a break. Each chained row is checked against the stored hash of
its predecessor, so one edited row is one break, not a cascade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import polars as pl
from deltalake import DeltaTable

from transforms.config import Environment
from transforms.governance.audit import AUDIT_LOG, GENESIS, HEAD_HASH, HEAD_SEQ, chain_hash

BreakKind = Literal["edited", "deleted", "reordered", "inserted"]


class ChainBreak(NamedTuple):
    """Where the chain breaks (`seq`), how, and the evidence."""

    seq: int
    kind: BreakKind
    detail: str

    def describe(self) -> str:
        return f"row {self.kind} ({self.detail})"


@dataclass(frozen=True)
class ChainReport:
    """The verdict on the audit log's hash chain."""

    ok: bool
    rows: int  # every row of the log, chained or not
    first_break: int | None = None
    breaks: list[ChainBreak] = field(default_factory=list)
    chained: int = 0
    legacy: int = 0  # unchained rows from before the chain began
    head_seq: int | None = None  # the last chained row's seq

    @property
    def verdict(self) -> str:
        """One line: intact (how many rows, which seqs) or where the chain first breaks."""
        legacy = f"; unchained legacy rows: {self.legacy}" if self.legacy else ""
        if not self.ok:
            first = self.breaks[0]
            more = f"; {len(self.breaks)} breaks in all" if len(self.breaks) > 1 else ""
            return f"chain breaks at seq {first.seq}: {first.describe()}{more}{legacy}"
        if not self.chained:
            return f"audit log has no chained rows ({self.rows} rows){legacy}"
        return f"audit chain intact: {self.chained} chained rows, seq 0-{self.head_seq}{legacy}"


def verify_chain(frame: pl.DataFrame, *, head: tuple[int, str] | None = None) -> ChainReport:
    """Recompute the chain of `frame` (rows of `ops.audit_log`, in any order).

    `head` is `(seq, row_hash)` of the newest row as its own commit recorded it: with it, rows
    deleted from the end of the log are caught too (a hash chain alone cannot see them).
    """
    if "seq" not in frame.columns:
        breaks = [] if head is None else [_missing(0, head[0], head[0])]
        return _report(frame.height, breaks, chained=0, legacy=frame.height, head_seq=None)
    chained = frame.filter(pl.col("seq").is_not_null()).sort("seq", "at", nulls_last=True)
    unchained = frame.filter(pl.col("seq").is_null())
    rows = chained.to_dicts()
    breaks: list[ChainBreak] = []
    legacy = unchained.height
    if rows:
        start = chained["at"].min()
        late = unchained.filter(pl.col("at") >= start) if start is not None else unchained.clear()
        legacy -= late.height
        breaks += _unchained_after_start(late, chained)
    by_hash = {row["row_hash"]: row["seq"] for row in rows}
    expected_seq, expected_prev = 0, GENESIS
    last: dict[str, Any] | None = None
    for seq, group in _by_seq(rows):
        if seq < expected_seq:
            breaks += [ChainBreak(seq, "inserted", "a seq before the chain's start") for _ in group]
            continue
        row = next((r for r in group if r["prev_hash"] == expected_prev and _intact(r)), group[0])
        breaks += [
            ChainBreak(seq, "inserted", f"a second row with seq {seq}, audit_id {r['audit_id']}")
            for r in group
            if r is not row
        ]
        if seq > expected_seq:
            breaks.append(_missing(expected_seq, seq - 1, None))
        elif row["prev_hash"] != expected_prev:
            breaks.append(_unlinked(row, by_hash))
        if not _intact(row):
            breaks.append(ChainBreak(seq, "edited", "row_hash differs"))
        expected_seq, expected_prev, last = seq + 1, row["row_hash"], row
    if head is not None:
        breaks += _against_head(last, head)
    breaks.sort(key=lambda b: b.seq)
    return _report(
        frame.height,
        breaks,
        chained=len(rows),
        legacy=legacy,
        head_seq=None if last is None else int(last["seq"]),
    )


def verify_audit_log(env: Environment) -> ChainReport:
    """Verify `ops.audit_log` as stored now, its tail checked against the newest audit commit."""
    path = env.table_path(AUDIT_LOG)
    if not DeltaTable.is_deltatable(str(path)):
        return ChainReport(ok=True, rows=0)
    table = DeltaTable(str(path))
    frame = pl.from_arrow(table.to_pyarrow_table())
    assert isinstance(frame, pl.DataFrame)
    return verify_chain(frame, head=committed_head(table))


def committed_head(table: DeltaTable) -> tuple[int, str] | None:
    """`(seq, row_hash)` the newest audit commit in the table's history recorded, if any."""
    for entry in table.history():
        if HEAD_SEQ in entry and HEAD_HASH in entry:
            return int(entry[HEAD_SEQ]), str(entry[HEAD_HASH])
    return None


def _intact(row: dict[str, Any]) -> bool:
    return row["row_hash"] == chain_hash(row["prev_hash"] or "", row)


def _by_seq(rows: list[dict[str, Any]]) -> list[tuple[int, list[dict[str, Any]]]]:
    groups: list[tuple[int, list[dict[str, Any]]]] = []
    for row in rows:
        if groups and groups[-1][0] == row["seq"]:
            groups[-1][1].append(row)
        else:
            groups.append((int(row["seq"]), [row]))
    return groups


def _missing(first: int, last: int, recorded: int | None) -> ChainBreak:
    seqs = f"seq {first}" if first == last else f"seq {first}-{last}"
    why = "" if recorded is None else f"; the newest audit commit recorded seq {recorded}"
    return ChainBreak(first, "deleted", f"{seqs} missing{why}")


def _unlinked(row: dict[str, Any], by_hash: dict[str, int]) -> ChainBreak:
    seq = int(row["seq"])
    follows = by_hash.get(row["prev_hash"])
    if follows is not None and follows != seq - 1:
        return ChainBreak(seq, "reordered", f"seq {seq} is chained after seq {follows}")
    return ChainBreak(
        seq,
        "deleted",
        f"prev_hash does not match seq {seq - 1}'s row_hash: rows removed and renumbered, "
        f"or seq {seq - 1} replaced",
    )


def _unchained_after_start(late: pl.DataFrame, chained: pl.DataFrame) -> list[ChainBreak]:
    breaks = []
    for row in late.to_dicts():
        before = chained.filter(pl.col("at") <= row["at"])["seq"]
        after = int(before.max()) if before.len() else 0  # type: ignore[arg-type]
        breaks.append(
            ChainBreak(
                after,
                "inserted",
                f"a row without chain fields, audit_id {row.get('audit_id')}, "
                f"dated after seq {after}",
            )
        )
    return breaks


def _against_head(last: dict[str, Any] | None, head: tuple[int, str]) -> Sequence[ChainBreak]:
    head_seq, head_hash = head
    last_seq = -1 if last is None else int(last["seq"])
    if last_seq < head_seq:
        return [_missing(last_seq + 1, head_seq, head_seq)]
    if last_seq > head_seq:
        return [
            ChainBreak(
                head_seq + 1,
                "inserted",
                f"seq {head_seq + 1}-{last_seq} were not appended by an audit",
            )
        ]
    if last is not None and last["row_hash"] != head_hash:
        return [ChainBreak(head_seq, "edited", "row_hash differs from the one its commit recorded")]
    return []


def _report(
    rows: int, breaks: list[ChainBreak], *, chained: int, legacy: int, head_seq: int | None
) -> ChainReport:
    return ChainReport(
        ok=not breaks,
        rows=rows,
        first_break=breaks[0].seq if breaks else None,
        breaks=breaks,
        chained=chained,
        legacy=legacy,
        head_seq=head_seq,
    )
