"""Delta tables to and from Spark, with delta-rs the only Delta writer.

Spark reads exactly one version of a table: the Parquet files that version lists
(`DeltaTable.file_uris()`), so time travel and the pinned bronze versions dbt reads hold on
Spark as on DuckDB. Large Spark outputs are written as Parquet inside the table folder and
committed with delta-rs in one transaction; small ones go through Arrow.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, Schema
from deltalake.transaction import AddAction, create_table_with_add_actions

from transforms.catalogue import Dataset
from transforms.config import Environment

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


class UnsupportedDeltaTable(ValueError):
    """The table uses a Delta reader feature that reading its Parquet files directly would ignore."""


def read_delta(spark: SparkSession, path: Path | str, version: int | None = None) -> DataFrame:
    """One version of a Delta table as a Spark DataFrame (its listed files, nothing else)."""
    table = DeltaTable(str(path), version=version)
    features = list(table.protocol().reader_features or [])
    if table.metadata().configuration.get("delta.columnMapping.mode", "none") != "none":
        features.append("columnMapping")  # a reader-version-2 feature, not listed as one
    if features:
        raise UnsupportedDeltaTable(
            f"{path}: Delta reader features {sorted(features)} (e.g. deletion vectors) cannot "
            "be read as plain Parquet; rewrite the table without them"
        )
    schema = pa.schema(table.schema().to_arrow())
    uris = table.file_uris()
    if not uris:
        return spark.createDataFrame(schema.empty_table())
    reader = spark.read.option("mergeSchema", "true")
    if table.metadata().partition_columns:
        reader = reader.option("basePath", str(path))
    return reader.parquet(*uris).select(*[f"`{name}`" for name in schema.names])


def register_bronze_views(
    spark: SparkSession,
    env: Environment,
    catalogue: dict[str, Dataset],
    versions: dict[str, int],
    empty_schema: dict[str, pa.Schema],
) -> None:
    """`global_temp.<dataset>` for every catalogue dataset at its pinned bronze version.

    A dataset not ingested yet (say, awaiting authorisation) is an empty view of its catalogue
    schema, so the rest of silver still builds, as on DuckDB.
    """
    for name in catalogue:
        if name in versions:
            frame = read_delta(spark, env.table_path(f"bronze.{name}"), versions[name])
        else:
            frame = spark.createDataFrame(empty_schema[name].empty_table())
        frame.createOrReplaceGlobalTempView(name)


def to_arrow(frame: DataFrame) -> pa.Table:
    """A Spark DataFrame as Arrow, every column nullable.

    `toArrow()` marks columns Spark knows to be non-null as NOT NULL; a Delta table created from
    that schema would then refuse a later null, so the constraint is dropped here.
    """
    table = frame.toArrow()
    return table.cast(pa.schema([field.with_nullable(True) for field in table.schema]))


def commit_spark_output(
    frame: DataFrame,
    path: Path,
    *,
    mode: Literal["append", "overwrite"],
    metadata: dict[str, str],
) -> int:
    """Write a large Spark result into the Delta table at `path` as one delta-rs commit.

    Spark writes Parquet files under the table folder; each file's schema is checked against
    the table's before anything is committed, so a mismatch leaves the table as it was (the
    stray files are never listed by any version, and `vacuum` removes them).
    """
    path.mkdir(parents=True, exist_ok=True)
    folder = f"spark-{uuid.uuid4().hex}"
    frame.write.mode("errorifexists").parquet(str(path / folder))
    files = sorted((path / folder).glob("*.parquet"))
    exists = DeltaTable.is_deltatable(str(path))
    if exists:
        expected = _nullable(pa.schema(DeltaTable(str(path)).schema().to_arrow()))
    elif files:
        expected = _nullable(pq.read_schema(files[0]))
    else:
        expected = to_arrow(frame.limit(0)).schema
    actions = []
    for file in files:
        found = _nullable(pq.read_schema(file))
        if not found.equals(expected):
            raise ValueError(
                f"{file}: schema {found} does not match the table's {expected}; nothing committed"
            )
        stat = file.stat()
        actions.append(
            AddAction(
                path=f"{folder}/{file.name}",
                size=stat.st_size,
                partition_values={},
                modification_time=int(stat.st_mtime * 1000),
                data_change=True,
                stats=json.dumps({"numRecords": pq.ParquetFile(file).metadata.num_rows}),
            )
        )
    properties = CommitProperties(custom_metadata=metadata)
    if exists:
        DeltaTable(str(path)).create_write_transaction(
            actions, mode, expected, commit_properties=properties
        )
    else:
        create_table_with_add_actions(
            str(path),
            Schema.from_arrow(expected),
            actions,
            mode="append",
            commit_properties=properties,
        )
    return DeltaTable(str(path)).version()


def _nullable(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, f.type, nullable=True) for f in schema])
