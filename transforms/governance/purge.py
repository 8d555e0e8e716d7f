"""Physically remove rows: Delta tables (rewrite, vacuum, log cleanup), raw files, the warehouse.

Deleting a row from a Delta table leaves it readable by time travel and its bytes on disk (old
data files, and min/max statistics in the log). Purging rewrites the table without the rows,
vacuums every unreferenced file, then checkpoints and cleans the log, so no version and no file
holds the value any more. Every removed file is hashed first, for the destruction certificate.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field

import polars as pl
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, write_deltalake

from transforms.config import Environment
from transforms.duckdb_settings import connect
from transforms.storage import StoragePath, readable, sha256_file, staged, storage_path
from transforms.storage import remove_tree as remove_folder

KEY_COLUMNS = (
    "record_key",
    "record_key_l",
    "record_key_r",
    "event_key",
    "er_component",  # ops.er_state names a component and a cluster by a member's key
    "cluster_id",
)


@dataclass
class PurgeLog:
    """What a purge removed: rows per table, versions no longer readable, files and their hashes."""

    rows: dict[str, int] = field(default_factory=dict)
    versions_purged: dict[str, list[int]] = field(default_factory=dict)
    removed_files: list[tuple[str, str]] = field(default_factory=list)  # (path, sha256)
    rewritten_files: list[tuple[str, str]] = field(default_factory=list)  # (path, new sha256)


def rewrite_delta(
    path: StoragePath, keep: pl.DataFrame, log: PurgeLog, label: str, removed: int, run_id: str
) -> None:
    """Replace a Delta table's contents with `keep`, then make earlier versions unreadable."""
    table = DeltaTable(str(path))
    before = table.version()
    write_deltalake(
        str(path),
        keep.to_arrow(),
        mode="overwrite",
        schema_mode="overwrite",
        commit_properties=CommitProperties(
            custom_metadata={"run_id": run_id, "purpose": "destruction"}
        ),
    )
    log.rows[label] = log.rows.get(label, 0) + removed
    log.versions_purged[label] = list(range(0, before + 1))
    vacuum_all_history(path, log)


def vacuum_all_history(path: StoragePath, log: PurgeLog) -> None:
    """Remove every file no longer in the latest version, and every log entry before it."""
    table = DeltaTable(str(path))
    doomed = table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=True)
    for name in doomed:
        file = storage_path(name) if os.path.isabs(name) or "://" in name else path / name
        if file.exists():
            log.removed_files.append((str(file), sha256_file(file)))
    table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    table.alter.set_table_properties(
        {
            "delta.logRetentionDuration": "interval 0 seconds",
        }
    )
    table = DeltaTable(str(path))
    table.create_checkpoint()
    table.cleanup_metadata()
    for entry in sorted((path / "_delta_log").glob("*")):
        # every commit before the last checkpoint is history that could still mention a value
        if entry.suffix == ".json" and int(entry.stem) < table.version():
            log.removed_files.append((str(entry), sha256_file(entry)))
            entry.unlink()
        elif entry.name.endswith(".crc"):
            entry.unlink()


def drop_keys(frame: pl.DataFrame, keys: set[str]) -> tuple[pl.DataFrame, int]:
    """Rows left once every row naming a doomed key (in any key column) is dropped."""
    columns = [c for c in KEY_COLUMNS if c in frame.columns]
    if not columns or not keys:
        return frame, 0
    doomed = pl.any_horizontal(pl.col(c).is_in(sorted(keys)) for c in columns)
    kept = frame.filter(~doomed.fill_null(False))
    if "sample_keys" in kept.columns:
        kept = kept.with_columns(
            pl.col("sample_keys").list.eval(pl.element().filter(~pl.element().is_in(sorted(keys))))
        )
    return kept, frame.height - kept.height


def raise_source_version(frame: pl.DataFrame, floor: tuple[str, int] | None) -> pl.DataFrame:
    """Rows of the destroyed dataset point at its rewritten bronze version at the oldest.

    A destruction makes every earlier bronze version unreadable, so a silver row's
    `source_version` (the version that committed its delivery) is raised to the rewrite's,
    where the row still is; a rebuild computes the same (transforms/silver_plan.py).
    """
    if floor is None or not {"source_dataset", "source_version"} <= set(frame.columns):
        return frame
    dataset, version = floor
    stale = (pl.col("source_dataset") == dataset) & (pl.col("source_version") < version)
    return frame.with_columns(
        pl.when(stale)
        .then(pl.lit(version, frame.schema["source_version"]))
        .otherwise(pl.col("source_version"))
        .alias("source_version")
    )


def remove_tree(path: StoragePath, log: PurgeLog) -> None:
    """Delete a folder of files derived from destroyed data, hashing each file first."""
    if not path.exists():
        return
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        log.removed_files.append((str(file), sha256_file(file)))
    remove_folder(path)


def rewrite_raw_file(
    path: StoragePath,
    fmt: str,
    id_columns: list[str],
    ids: set[str],
    separator: str,
    encoding: str,
    log: PurgeLog,
) -> int:
    """Drop the records with doomed ids from one delivered file, keeping its format; returns rows removed."""

    def record_id(values: dict[str, object]) -> str:
        return "|".join(str(values.get(c)) for c in id_columns)

    old_hash = sha256_file(path)
    removed = 0
    if fmt == "csv":
        text = path.read_bytes().decode(encoding, errors="replace")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
        header, body = rows[0], rows[1:]
        kept = [r for r in body if record_id(dict(zip(header, r, strict=False))) not in ids]
        removed = len(body) - len(kept)
        if removed:
            out = io.StringIO(newline="")
            csv.writer(out, delimiter=separator, lineterminator="\n").writerows([header, *kept])
            path.write_bytes(out.getvalue().encode(encoding, errors="replace"))
    elif fmt == "jsonl":
        lines = path.read_bytes().splitlines()
        kept_lines = []
        for line in lines:
            try:
                values = json.loads(line)
            except ValueError:
                kept_lines.append(line)
                continue
            if isinstance(values, dict) and record_id(values) in ids:
                removed += 1
            else:
                kept_lines.append(line)
        if removed:
            path.write_bytes(b"\n".join(kept_lines) + b"\n")
    else:
        with readable(path) as source:
            table = pq.read_table(source)
        frame = pl.from_arrow(table)
        keep = ~pl.concat_str([pl.col(c).cast(pl.String) for c in id_columns], separator="|").is_in(
            sorted(ids)
        )
        kept = frame.filter(keep)  # type: ignore[union-attr]
        removed = frame.height - kept.height  # type: ignore[union-attr]
        if removed:
            with staged(path) as local:
                kept.write_parquet(local)
    if removed:
        log.removed_files.append((str(path), old_hash))
        log.rewritten_files.append((str(path), sha256_file(path)))
    return removed


def rebuild_warehouse(
    env: Environment,
    keys: set[str],
    replacements: dict[str, pl.DataFrame],
    log: PurgeLog,
    floor: tuple[str, int] | None = None,
) -> None:
    """Delete doomed rows from every warehouse table, then copy into a fresh file (freed blocks keep bytes)."""
    warehouse = env.warehouse
    if not warehouse.exists():
        return
    old_hash = sha256_file(warehouse)
    con = connect(env, warehouse)
    try:
        tables = con.sql(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, name in tables:
            label = f"warehouse.{schema}.{name}"
            if f"{schema}.{name}" in replacements:
                con.register("__replacement", replacements[f"{schema}.{name}"].to_arrow())
                con.execute(
                    f'create or replace table "{schema}"."{name}" as select * from __replacement'
                )
                con.unregister("__replacement")
                continue
            columns = {
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                    [schema, name],
                ).fetchall()
            }
            if floor is not None and {"source_dataset", "source_version"} <= columns:
                con.execute(
                    f'update "{schema}"."{name}" set source_version = ? '
                    "where source_dataset = ? and source_version < ?",
                    [floor[1], floor[0], floor[1]],
                )
            for column in sorted(columns & set(KEY_COLUMNS)):
                con.register("__doomed", pl.DataFrame({"k": sorted(keys)}).to_arrow())
                count = con.execute(
                    f'delete from "{schema}"."{name}" where "{column}" in (select k from __doomed)'
                ).fetchall()[0][0]
                con.unregister("__doomed")
                if count:
                    log.rows[label] = log.rows.get(label, 0) + int(count)
        fresh = warehouse.with_name(warehouse.name + ".purged")
        fresh.unlink(missing_ok=True)
        con.execute(f"attach '{fresh}' as purged")
        database = con.sql("select current_database()").fetchall()[0][0]
        con.execute(f'copy from database "{database}" to purged')
        con.execute("detach purged")
    finally:
        con.close()
    os.replace(fresh, warehouse)
    warehouse.with_name(warehouse.name + ".wal").unlink(missing_ok=True)
    log.removed_files.append((str(warehouse), old_hash))
    log.rewritten_files.append((str(warehouse), sha256_file(warehouse)))
