"""Publish tables built by dbt in the DuckDB warehouse as Delta tables (one commit each).

dbt-duckdb cannot write Delta, so tables are streamed out of DuckDB as Arrow batches into
`write_deltalake`: the whole table is replaced in one atomic commit, older versions stay readable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
from deltalake import CommitProperties, DeltaTable, write_deltalake

from transforms.config import Environment

SILVER_TABLES = (
    "person_records",
    "addresses",
    "comms_identifiers",
    "document_identifiers",
    "comms_events",
)


@dataclass(frozen=True)
class Published:
    table: str
    rows: int
    version: int


def publish_tables(
    env: Environment, layer: str, tables: list[str], *, run_id: str
) -> Iterator[Published]:
    """Copy `<layer>.<table>` from the warehouse into `delta/<layer>/<table>`."""
    con = duckdb.connect(str(env.warehouse), read_only=True)
    try:
        for table in tables:
            path = env.table_path(f"{layer}.{table}")
            path.mkdir(parents=True, exist_ok=True)
            reader = con.sql(f'select * from "{layer}"."{table}"').to_arrow_reader()
            write_deltalake(
                str(path),
                reader,
                mode="overwrite",
                schema_mode="overwrite",
                commit_properties=CommitProperties(
                    custom_metadata={"run_id": run_id, "source": "dbt"}
                ),
            )
            delta = DeltaTable(str(path))
            yield Published(table, delta.count(), delta.version())
    finally:
        con.close()
