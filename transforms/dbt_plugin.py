"""dbt-duckdb plugin `lakehouse`: bronze Delta sources at a pinned version, and our UDFs.

dbt-duckdb's own `delta` plugin ignores `as_of_version: 0` and DuckDB's delta extension cannot be
installed offline, so this plugin opens the table with delta-rs at exactly the pinned version.
A dataset not ingested yet (say, awaiting authorisation) reads as an empty table of its
catalogue schema, so the rest of silver still builds.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.duckdb.utils import SourceConfig
from deltalake import DeltaTable
from duckdb import DuckDBPyConnection

from transforms.catalogue import Dataset, load_catalogue
from transforms.config import get_environment, split_table_name
from transforms.ingest.pipeline import bronze_schema
from transforms.normalise.duckdb_udfs import register_udfs


class Plugin(BasePlugin):
    """Registers normalisation UDFs on every connection and loads bronze Delta sources."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.env = get_environment()

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        register_udfs(conn)
        declare_bronze_views(conn, load_catalogue(self.env.catalogue_dir))

    def load(self, source_config: SourceConfig) -> Any:
        table = source_config["table"]
        path = str(self.env.table_path(table))
        pinned = str(source_config.get("as_of_version", "") or "").strip()
        if not DeltaTable.is_deltatable(path):
            return self._empty(table)
        delta = DeltaTable(path, version=int(pinned) if pinned.isdigit() else None)
        return read_deliveries(delta.to_pyarrow_dataset(), source_config.get("deliveries"))

    def _empty(self, table: str) -> pa.Table:
        """A dataset not ingested yet reads as empty, so the rest of silver still builds."""
        _, name = split_table_name(table)
        dataset = load_catalogue(self.env.catalogue_dir)[name]
        return bronze_schema(dataset).empty_table()

    def default_materialization(self) -> str:
        return "view"


def read_deliveries(dataset: ds.Dataset, deliveries: object) -> ds.Dataset:
    """The bronze rows an incremental build reads: only the listed deliveries' (JSON list);
    every row when the list is absent (`null`: a build from scratch)."""
    listed = json.loads(str(deliveries)) if deliveries not in (None, "", "None") else None
    if listed is None:
        return dataset
    kind = dataset.schema.field("_delivery_id").type  # string, large_string or string_view
    return dataset.filter(pc.field("_delivery_id").isin(pa.array(listed, pa.string()).cast(kind)))


def declare_bronze_views(conn: DuckDBPyConnection, catalogue: dict[str, Dataset]) -> None:
    """Give every bronze source a schema-only placeholder view in the warehouse.

    dbt unit tests look up a source's columns before any model has loaded it; the placeholder
    answers with the catalogue schema. Loading the source replaces it with the Delta view. A view
    left by an earlier dbt process points at data that process registered; it is replaced too.
    """
    conn.execute("create schema if not exists bronze")
    existing = {
        row[0]
        for row in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'bronze'"
        ).fetchall()
    }
    for dataset in catalogue.values():
        if dataset.name in existing and _readable(conn, dataset.name):
            continue
        schema = bronze_schema(dataset)
        conn.register("_bronze_placeholder", schema.empty_table())
        described = conn.execute("describe select * from _bronze_placeholder").fetchall()
        conn.unregister("_bronze_placeholder")
        columns = ", ".join(
            f'cast(null as {sql_type}) as "{name}"' for name, sql_type, *_ in described
        )
        conn.execute(
            f'create or replace view bronze."{dataset.name}" as select {columns} where false'
        )


def _readable(conn: DuckDBPyConnection, name: str) -> bool:
    try:
        conn.execute(f'describe bronze."{name}"').fetchall()
    except Exception:  # duckdb raises Catalog/Binder errors for views over unregistered data
        return False
    return True
