"""`ops.er_features`: the Splink input of the records the published gold was resolved from.

Building the input from silver (`pipeline.silver_features`) reads every silver table and costs
about 2 s per 100,000 people; resolution does it once per run and publishes the result here
(merged by the records whose feature or input hash changed, beside `ops.er_state`), so bulk search and
the dashboards read it instead of building it again. Search then scores subjects against the
same records, with the same generic values removed, that the gold entities it reports were
resolved from.

Rows are keyed by `record_key` (the Splink input's `unique_id`), so a destruction purges them as
it purges every other table holding the record. Each row also carries its record's input hash
(`feature_inputs.py`), so the next resolution builds features only for records whose silver rows
changed.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable

from transforms.config import Environment
from transforms.delta_io import read_path, read_where_in, write_commit
from transforms.resolve.feature_inputs import FEATURES_TABLE, INPUT_HASH, KEY
from transforms.resolve.features import FEATURE_COLUMNS
from transforms.resolve.pipeline import silver_features
from transforms.silver_changes import merge_change
from transforms.storage import StoragePath

__all__ = [
    "FEATURES_TABLE",
    "publish_features",
    "published_features",
    "resolution_features",
    "stored_features",
]


def stored_features(features: pl.DataFrame, hashes: pl.DataFrame | None = None) -> pl.DataFrame:
    """The Splink input as `ops.er_features` holds it (`unique_id` named `record_key`), with
    each record's input hash (null where `hashes` is None)."""
    stored = features.select(FEATURE_COLUMNS).rename({"unique_id": KEY})
    if hashes is None:
        return stored.with_columns(pl.lit(None, dtype=pl.Int64).alias(INPUT_HASH))
    return stored.join(hashes.select(KEY, INPUT_HASH), on=KEY, how="left")


def publish_features(
    env: Environment,
    features: pl.DataFrame,
    changed: set[str] | None,
    run_id: str,
    hashes: pl.DataFrame | None = None,
) -> int:
    """Bring `ops.er_features` level with `features`; returns the version written.

    `changed` names every record whose published row may differ: new, changed or gone (its
    feature hash differs from `ops.er_state`'s, or its input hash from the published one). The
    rows of the others are equal by construction, so only `changed` is merged. None (a full
    run, no table yet, or one written before input hashes or with another type of them)
    writes the table whole. Published before `ops.er_state`, so a run killed between the two
    leaves the state behind the features, and the next run merges the same records again.
    """
    path = env.table_path(FEATURES_TABLE)
    metadata = {"run_id": run_id}
    if (
        changed is None
        or not DeltaTable.is_deltatable(str(path))
        or _stored_hash_type(path) != pa.int64()
    ):
        rows = stored_features(features, hashes)
        return write_commit(path, rows.to_arrow(), mode="overwrite", metadata=metadata)
    keys = pl.DataFrame({"unique_id": sorted(changed)}, schema={"unique_id": pl.String})
    rows = stored_features(features.join(keys, on="unique_id", how="semi"), hashes)
    return merge_change(path, KEY, sorted(changed), rows, metadata)


def _stored_hash_type(path: StoragePath) -> pa.DataType | None:
    schema = pa.schema(DeltaTable(str(path)).schema().to_arrow())
    return schema.field(INPUT_HASH).type if INPUT_HASH in schema.names else None


def _as_features(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.rename({KEY: "unique_id"}).select(FEATURE_COLUMNS).sort("unique_id")


def published_features(env: Environment, keys: list[str] | None = None) -> pl.DataFrame | None:
    """The published Splink input (only `keys`' records when given); None before a resolution
    has published it (a lakehouse resolved by an earlier version: callers build it from silver).
    """
    path = env.table_path(FEATURES_TABLE)
    if keys is None:
        frame = read_path(path)
        return None if frame is None else _as_features(frame)
    if not DeltaTable.is_deltatable(str(path)):
        return None
    table = DeltaTable(str(path))
    columns = [field.name for field in table.schema().to_arrow()]
    rows = pl.from_arrow(read_where_in(table, columns, KEY, sorted(set(keys))))
    return _as_features(rows)  # type: ignore[arg-type]


def resolution_features(env: Environment, keys: list[str] | None = None) -> pl.DataFrame:
    """The Splink input gold was resolved from, else (nothing published yet) built from silver."""
    published = published_features(env, keys)
    if published is not None:
        return published
    features, _ = silver_features(env)
    if keys is None:
        return features
    return features.filter(pl.col("unique_id").is_in(sorted(set(keys))))
