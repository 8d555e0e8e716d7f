"""Publish a warehouse table to Delta by its change, not by rewriting it.

dbt rebuilds the silver tables in the DuckDB warehouse (cheap SQL over the incremental
`int_records__unioned`); the published Delta table is brought level with it by one merge that
deletes every row of a changed key and inserts that key's new rows. A key is changed when its
rows differ between the two: each side is reduced in DuckDB, streamed over the Delta files, to a
fingerprint per key (its row count and the sum of its rows' 64-bit hashes, so repeated rows
count), and the keys whose fingerprints differ are the change. That is twice as fast as a set
difference of whole rows (2.8M evidence rows: 3.2 s against 7.5 s) and exact but for a hash
collision between a key's old and new rows (about one in 2^64 per changed key). So the merge
follows whatever changed the table: a new delivery, a replaced cut, a destruction, a record
quarantined before. Only the changed rows reach Python, to be audited.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl
import pyarrow as pa
from deltalake import CommitProperties, DeltaTable

from transforms.delta_io import read_where_in
from transforms.storage import StoragePath

OP = "__lakehouse_op"


@dataclass(frozen=True)
class TableChange:
    """The keys whose rows differ, and the warehouse's rows for them (None: publish it whole)."""

    keys: list[str] | None
    rows: pl.DataFrame
    total_rows: int

    @property
    def whole(self) -> bool:
        return self.keys is None


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"describe select * from {relation}").fetchall()]


def table_change(
    con: duckdb.DuckDBPyConnection, relation: str, key: str, published: StoragePath | None
) -> TableChange:
    """What differs between the warehouse `relation` and the Delta table at `published`.

    The whole table is the change when nothing is published yet (or `published` is None: a
    rebuild) or its columns differ.
    """
    total = int(con.execute(f"select count(*) from {relation}").fetchall()[0][0])
    if published is None or not DeltaTable.is_deltatable(str(published)):
        return TableChange(None, _frame(con, f"select * from {relation}"), total)
    con.register("__published", DeltaTable(str(published)).to_pyarrow_dataset())
    try:
        wanted = _columns(con, relation)
        if wanted != _columns(con, "__published"):
            return TableChange(None, _frame(con, f"select * from {relation}"), total)
        listed = ", ".join(f'"{name}"' for name, _ in wanted)
        fingerprint = (
            f'select "{key}" as k, count(*) as n, sum(hash({listed})::hugeint) as h from {{}} '
            "group by all"
        )
        con.execute(
            f"""
            create or replace temp table __changed_keys as
            select coalesce(candidate.k, published.k) as k
            from ({fingerprint.format(relation)}) as candidate
            full outer join ({fingerprint.format("__published")}) as published
                on candidate.k is not distinct from published.k
            where candidate.n is distinct from published.n
               or candidate.h is distinct from published.h
            """
        )
    finally:
        con.unregister("__published")
    keys = [r[0] for r in con.execute("select k from __changed_keys order by k").fetchall()]
    rows = _frame(con, f'select * from {relation} where "{key}" in (select k from __changed_keys)')
    return TableChange(keys, rows, total)


def _frame(con: duckdb.DuckDBPyConnection, query: str) -> pl.DataFrame:
    return pl.from_arrow(con.sql(query).to_arrow_table())  # type: ignore[return-value]


def published_keys(path: StoragePath, key: str, keys: set[str]) -> set[str]:
    """Which of `keys` the Delta table at `path` holds rows of (read by a pushed-down filter)."""
    if not keys:
        return set()
    found = read_where_in(DeltaTable(str(path)), [key], key, sorted(keys))
    return {str(k) for k in found.column(key).to_pylist()}


def merge_change(
    path: StoragePath, key: str, keys: list[str], rows: pl.DataFrame, metadata: dict[str, str]
) -> int:
    """One commit: delete every row of `keys`, insert `rows`; returns the new version."""
    table = DeltaTable(str(path))
    if not keys and rows.height == 0:
        return table.version()
    columns = [field.name for field in table.schema().to_arrow()]
    deletes = pa.table({key: pa.array(sorted(set(keys)), pa.string())})
    deletes = _with_columns(deletes, rows, columns).append_column(
        OP, pa.array(["delete"] * deletes.num_rows)
    )
    inserts = rows.select(columns).to_arrow()
    inserts = inserts.append_column(OP, pa.array(["insert"] * inserts.num_rows))
    source = pa.concat_tables([deletes, inserts.cast(deletes.schema)])
    (
        table.merge(
            source,
            predicate=f"t.{key} = s.{key} and s.{OP} = 'delete'",
            source_alias="s",
            target_alias="t",
            commit_properties=CommitProperties(custom_metadata=metadata),
        )
        .when_matched_delete()
        .when_not_matched_insert(
            updates={c: f"s.{c}" for c in columns}, predicate=f"s.{OP} = 'insert'"
        )
        .execute()
    )
    return DeltaTable(str(path)).version()


def _with_columns(deletes: pa.Table, rows: pl.DataFrame, columns: list[str]) -> pa.Table:
    """Key-only delete rows, widened to the insert rows' schema with nulls."""
    schema = rows.select(columns).to_arrow().schema
    arrays = [
        deletes.column(name).cast(schema.field(name).type)
        if name in deletes.column_names
        else pa.nulls(deletes.num_rows, schema.field(name).type)
        for name in columns
    ]
    return pa.table(arrays, schema=schema)
