"""Publish tables built in Python by their change: one Delta merge and a warehouse delete+insert.

A resolution run rebuilds its gold tables as frames, but a delivery changes few of their rows.
The frames are held in an in-memory DuckDB (`candidate_tables`), diffed against the published
Delta tables (`transforms/silver_changes.py`) and merged by key; the warehouse copy follows by
deleting and inserting the same keys (`mirror_to_warehouse`). The warehouse records which Delta
version each copy mirrors (`MIRRORS`): a copy that is not level with the version the change was
taken from (a run killed between the two writes, a destruction, a fresh warehouse) is copied
whole instead, so the two never drift apart.
"""

from __future__ import annotations

import duckdb
import polars as pl

from transforms.config import Environment
from transforms.delta_io import current_version, write_commit
from transforms.duckdb_settings import connect
from transforms.locks import warehouse_lock
from transforms.publish import Published
from transforms.silver_changes import merge_change, table_change

MIRRORS = '"_lakehouse"."mirrored_versions"'
"""Warehouse table: layer, table_name, delta_version of the Delta table each copy equals."""


def candidate_tables(
    env: Environment, layer: str, frames: dict[str, pl.DataFrame]
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding each frame as `<layer>."<name>"` (the run's candidates).

    Each frame is taken out of `frames` once DuckDB holds it: the run's tables are not kept
    twice while they are audited and merged (at 1M people, gold is over a gigabyte).
    Unsigned integers become Int64: Delta has none, so they would never compare equal to what
    was published and every run would rewrite the table whole.
    """
    con = connect(env)
    con.execute(f'create schema "{layer}"')
    for name in list(frames):
        frame = frames.pop(name)
        unsigned = [c for c, t in frame.schema.items() if t.is_unsigned_integer()]
        frame = frame.with_columns(pl.col(unsigned).cast(pl.Int64)) if unsigned else frame
        con.register("__frame", frame.to_arrow())
        con.execute(f'create table "{layer}"."{name}" as select * from __frame')
        con.unregister("__frame")
        del frame
    return con


def publish_change(
    env: Environment,
    con: duckdb.DuckDBPyConnection,
    layer: str,
    table: str,
    key: str,
    run_id: str,
    *,
    warehouse: bool = True,
) -> Published:
    """Merge `<layer>."<table>"` of `con` into its Delta table by change (no audit)."""
    relation, path = f'{layer}."{table}"', env.table_path(f"{layer}.{table}")
    previous = current_version(path)
    change = table_change(con, relation, key, path)
    metadata = {"run_id": run_id}
    if change.whole:
        version = write_commit(path, change.rows.to_arrow(), mode="overwrite", metadata=metadata)
    else:
        version = merge_change(path, key, change.keys or [], change.rows, metadata)
    if warehouse:
        mirror_to_warehouse(env, con, layer, table, key, change.keys, previous, version)
    return Published(table, change.total_rows, version)


def mirror_to_warehouse(
    env: Environment,
    con: duckdb.DuckDBPyConnection,
    layer: str,
    table: str,
    key: str,
    keys: list[str] | None,
    previous_version: int | None,
    version: int,
) -> None:
    """Make the warehouse copy of `<layer>.<table>` equal `<layer>."<table>"` of `con`.

    `keys` are the keys whose rows changed since Delta version `previous_version` (None: all);
    when the copy mirrors that version only they are deleted and inserted, else it is replaced.
    One transaction: the copy and its mirrored version change together or not at all.
    """
    relation = f'{layer}."{table}"'
    env.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with warehouse_lock(env, f"copy of {layer}.{table}"):
        target = connect(env, env.warehouse)
        try:
            target.execute('create schema if not exists "_lakehouse"')
            target.execute(
                f"create table if not exists {MIRRORS} "
                "(layer varchar, table_name varchar, delta_version bigint)"
            )
            mirrored = target.execute(
                f"select delta_version from {MIRRORS} where layer = ? and table_name = ?",
                [layer, table],
            ).fetchall()
            level = (
                keys is not None
                and previous_version is not None
                and mirrored == [(previous_version,)]
                and _columns(target, relation) == _columns(con, relation)
            )
            target.execute("begin transaction")
            target.execute(f'create schema if not exists "{layer}"')
            if level:
                changed = pl.DataFrame({"k": keys or []}, schema={"k": pl.String})
                con.register("__keys", changed.to_arrow())
                rows = con.sql(
                    f'select * from {relation} where "{key}" in (select k from __keys)'
                ).to_arrow_table()
                con.unregister("__keys")
                target.register("__keys", changed.to_arrow())
                target.register("__rows", rows)
                target.execute(f'delete from {relation} where "{key}" in (select k from __keys)')
                target.execute(f"insert into {relation} select * from __rows")
            else:
                target.register("__rows", con.sql(f"select * from {relation}").to_arrow_table())
                target.execute(f"create or replace table {relation} as select * from __rows")
            target.execute(
                f"delete from {MIRRORS} where layer = ? and table_name = ?", [layer, table]
            )
            target.execute(f"insert into {MIRRORS} values (?, ?, ?)", [layer, table, version])
            target.execute("commit")
        finally:
            target.close()


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]] | None:
    try:
        return [(r[0], r[1]) for r in con.execute(f"describe {relation}").fetchall()]
    except duckdb.CatalogException:
        return None
