"""Retention and verifiable destruction of records, across every layer and every raw file.

`destroy` removes a dataset, specific records, or records older than a cut-off: from bronze, then
everything derived from them (silver, gold, ops, the warehouse, reports), the raw delivered files
(landing and quarantine) and the generator's truth. It writes a certificate to `ops.destructions`:
what, why, who, rows per table, versions purged and every removed file with its sha256.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl
from deltalake import DeltaTable

from transforms.catalogue import Dataset, load_catalogue
from transforms.config import Environment
from transforms.delta_io import oldest_version, read_path
from transforms.governance.cuts import MANIFEST, redact_cut_table
from transforms.governance.purge import (
    PurgeLog,
    drop_keys,
    raise_source_version,
    rebuild_warehouse,
    remove_tree,
    rewrite_delta,
    rewrite_raw_file,
)
from transforms.locks import warehouse_lock
from transforms.publish import append_frame
from transforms.resolve import gold
from transforms.resolve.config import load_resolution_config
from transforms.resolve.generic_values import generic_holders, generic_values, identifier_values
from transforms.spark.session import RECORD_COPY_FOLDERS
from transforms.storage import (
    StoragePath,
    read_parquet,
    sha256_file,
    write_parquet,
    write_text_atomic,
)

DERIVED_REPORTS = ("er", "validations", "data_docs")


@dataclass(frozen=True)
class Certificate:
    destruction_id: str
    dataset: str
    scope: str
    record_keys: list[str]
    reason: str
    user: str
    log: PurgeLog


def _record_ids(frame: pl.DataFrame, dataset: Dataset) -> pl.Expr:
    return pl.concat_str(
        [pl.col(c).cast(pl.String) for c in dataset.source.record_id], separator="|"
    )


def delta_tables(env: Environment) -> list[StoragePath]:
    """Every Delta table under the lakehouse (all layers, staging candidates included)."""
    return sorted(p.parent for p in env.delta.rglob("_delta_log") if p.is_dir())


def destroy(
    env: Environment,
    dataset_name: str,
    *,
    reason: str,
    user: str,
    record_keys: list[str] | None = None,
    older_than: datetime | None = None,
) -> Certificate:
    """Delete and physically purge; returns the certificate (also appended to `ops.destructions`)."""
    if not reason.strip() or not user.strip():
        raise ValueError("a destruction needs a reason and a user")
    catalogue = load_catalogue(env.catalogue_dir)
    if dataset_name not in catalogue:
        raise ValueError(f"unknown dataset {dataset_name!r}")
    dataset = catalogue[dataset_name]
    run_id = str(uuid.uuid4())
    log = PurgeLog()
    bronze_path = env.table_path(f"bronze.{dataset_name}")
    bronze = read_path(bronze_path)
    if bronze is None:
        bronze = pl.DataFrame()
    ids = (
        bronze.select(_record_ids(bronze, dataset).alias("id"), "_ingested_at")
        if bronze.height
        else pl.DataFrame(schema={"id": pl.String, "_ingested_at": pl.Datetime("us", "UTC")})
    )
    if record_keys:
        wrong = [k for k in record_keys if not k.startswith(f"{dataset_name}:")]
        if wrong:
            raise ValueError(f"record keys {wrong} are not keys of {dataset_name}")
        doomed_ids = {k.split(":", 1)[1] for k in record_keys}
        scope = "records"
    elif older_than is not None:
        doomed_ids = set(ids.filter(pl.col("_ingested_at") < older_than)["id"].to_list())
        scope = f"older than {older_than.isoformat()}"
    else:
        doomed_ids = set(ids["id"].to_list())
        scope = "dataset"
    keys = {f"{dataset_name}:{i}" for i in doomed_ids}
    entities = _entities_of(env, keys)  # before gold is rewritten without them
    if bronze.height:
        keep = bronze.filter(~_record_ids(bronze, dataset).is_in(sorted(doomed_ids)))
        if keep.height < bronze.height or scope == "dataset":
            rewrite_delta(
                bronze_path,
                keep,
                log,
                f"bronze.{dataset_name}",
                bronze.height - keep.height,
                run_id,
            )
    remove_tree(env.delta / "_staging", log)  # audit candidates: transient copies, rebuilt next run
    # the versions a rewrite made unreadable: silver rows move to the oldest left (silver_plan.py)
    floor = (dataset_name, oldest_version(bronze_path)) if bronze.height else None
    _purge_derived_tables(env, keys, log, run_id, skip={bronze_path}, floor=floor)
    _purge_raw_files(env, dataset, doomed_ids, scope, log)
    _purge_cut_copies(env, keys, entities, run_id, log)
    _purge_truth(env, keys, log)
    _purge_model_term_frequencies(env, log)
    for name in DERIVED_REPORTS:
        remove_tree(env.reports / name, log)
    replacements = _gold_replacements(env)
    with warehouse_lock(env, f"destruction {run_id}"):
        rebuild_warehouse(env, keys, replacements, log, floor)
    for spark_copies in RECORD_COPY_FOLDERS:  # the Spark engine's, rebuilt next run
        remove_tree(env.spark_dir / spark_copies, log)
    certificate = Certificate(run_id, dataset_name, scope, sorted(keys), reason, user, log)
    _record(env, certificate)
    return certificate


def _purge_derived_tables(
    env: Environment,
    keys: set[str],
    log: PurgeLog,
    run_id: str,
    skip: set[StoragePath],
    floor: tuple[str, int] | None,
) -> None:
    for path in delta_tables(env):
        if path in skip or path.name in ("entities", "entity_links") and path.parent.name == "gold":
            continue
        frame = pl.from_arrow(DeltaTable(str(path)).to_pyarrow_table())
        assert isinstance(frame, pl.DataFrame)
        kept, removed = drop_keys(frame, keys)
        if path.parent.name == "silver":
            kept = raise_source_version(kept, floor)
        changed = removed > 0 or (
            {"sample_keys", "source_version"} & set(frame.columns) and not kept.equals(frame)
        )
        if changed:
            rewrite_delta(path, kept, log, _label(env, path), removed, run_id)
    replacements = _gold_replacements(env)
    for name, frame in replacements.items():
        path = env.table_path(name)
        if DeltaTable.is_deltatable(str(path)):
            before = DeltaTable(str(path)).count()
            rewrite_delta(path, frame, log, name, max(before - frame.height, 0), run_id)


def _gold_replacements(env: Environment) -> dict[str, pl.DataFrame]:
    """Entities, links and generic values rebuilt from what remains (names, evidence and counts
    may come from destroyed rows)."""
    records = read_path(env.table_path("gold.entity_records"))
    persons = read_path(env.table_path("silver.person_records"))
    if records is None or persons is None:
        return {}
    silver = {
        t: read_path(env.table_path(f"silver.{t}"))
        for t in ("addresses", "comms_identifiers", "comms_events", "document_identifiers")
    }
    if any(v is None for v in silver.values()):
        return {"gold.entities": gold.entities(records, persons)}
    addresses, identifiers = silver["addresses"], silver["comms_identifiers"]
    assert addresses is not None and identifiers is not None
    assert silver["comms_events"] is not None and silver["document_identifiers"] is not None
    holders = generic_holders(
        identifier_values(persons, addresses, identifiers, silver["document_identifiers"]),
        load_resolution_config(env.catalogue_dir).generic_values,
    )
    return {
        "gold.entities": gold.entities(records, persons),
        "gold.entity_links": gold.entity_links(
            records, addresses, identifiers, silver["comms_events"], holders
        ),
        "gold.generic_values": generic_values(holders, records),
    }


def _entities_of(env: Environment, keys: set[str]) -> set[str]:
    """The gold entities the doomed records belong to (their names may be in disclosed rows)."""
    records = read_path(env.table_path("gold.entity_records"))
    if records is None or not keys:
        return set()
    return set(records.filter(pl.col("record_key").is_in(sorted(keys)))["entity_id"].to_list())


def _purge_cut_copies(
    env: Environment, keys: set[str], entities: set[str], run_id: str, log: PurgeLog
) -> None:
    """Our retained copies of partner cuts lose every row naming a doomed record or its entity.

    What a partner received is theirs to destroy (the disclosure log says who holds what); the
    copies kept here are rewritten, and each manifest records the redaction and the new sha256.
    """
    if not env.cuts.exists() or not (keys or entities):
        return
    for manifest_path in sorted(env.cuts.glob(f"*/*/{MANIFEST}")):
        manifest = json.loads(manifest_path.read_text())
        changed = 0
        for table in manifest.get("tables", []):
            removed, written = redact_cut_table(
                manifest_path.parent, table["table"], keys, entities, log
            )
            if not removed:
                continue
            changed += removed
            table["rows"] = int(table.get("rows") or 0) - removed
            log.rows[f"cut:{manifest_path.parent.relative_to(env.home)}/{table['table']}"] = removed
            for entry in table.get("files", []):
                entry.update(written.get(entry["name"], {}))
        if changed:
            manifest.setdefault("redactions", []).append(
                {"destruction_id": run_id, "rows": changed}
            )
            log.removed_files.append((str(manifest_path), sha256_file(manifest_path)))
            write_text_atomic(manifest_path, json.dumps(manifest, indent=2, default=str) + "\n")
            log.rewritten_files.append((str(manifest_path), sha256_file(manifest_path)))


def _purge_raw_files(
    env: Environment, dataset: Dataset, ids: set[str], scope: str, log: PurgeLog
) -> None:
    for root in (env.landing / dataset.name, env.quarantine / dataset.name):
        if scope == "dataset":
            remove_tree(root, log)
            continue
        for file in sorted(root.glob(f"*/{dataset.source.glob}")) if root.exists() else []:
            removed = rewrite_raw_file(
                file,
                dataset.source.format,
                dataset.source.record_id,
                ids,
                dataset.source.separator,
                dataset.source.encoding,
                log,
            )
            if removed:
                log.rows[f"raw:{file.relative_to(env.home)}"] = removed


def _purge_truth(env: Environment, keys: set[str], log: PurgeLog) -> None:
    truth = env.truth / "record_truth.parquet"
    if not truth.exists() or not keys:
        return
    frame = read_parquet(truth)
    kept = frame.filter(~pl.col("record_key").is_in(sorted(keys)))
    if kept.height < frame.height:
        log.removed_files.append((str(truth), sha256_file(truth)))
        write_parquet(kept, truth)
        log.rewritten_files.append((str(truth), sha256_file(truth)))
        log.rows["truth.record_truth"] = frame.height - kept.height


def _purge_model_term_frequencies(env: Environment, log: PurgeLog) -> None:
    """Frozen term-frequency tables keep only names some remaining record still carries."""
    persons = read_path(env.table_path("silver.person_records"))
    if persons is None:
        return
    from transforms.resolve.features import canonical_name

    for tf in (
        sorted((env.models / "er").glob("v*/tf_*.parquet")) if (env.models / "er").exists() else []
    ):
        column = tf.stem.removeprefix("tf_")
        if column not in persons.columns:
            continue
        remaining = set(persons.select(canonical_name(column)).to_series().drop_nulls().to_list())
        frame = read_parquet(tf)
        kept = frame.filter(pl.col(column).is_in(sorted(remaining)))
        if kept.height < frame.height:
            log.removed_files.append((str(tf), sha256_file(tf)))
            write_parquet(kept, tf)
            log.rewritten_files.append((str(tf), sha256_file(tf)))
            log.rows[f"model:{tf.parent.name}/{tf.name}"] = frame.height - kept.height


def _label(env: Environment, path: StoragePath) -> str:
    relative = path.relative_to(env.delta).parts
    return ".".join(relative)


def _record(env: Environment, certificate: Certificate) -> None:
    log = certificate.log
    row = pl.DataFrame(
        [
            {
                "destruction_id": certificate.destruction_id,
                "at": datetime.now(UTC),
                "user": certificate.user,
                "reason": certificate.reason,
                "dataset": certificate.dataset,
                "scope": certificate.scope,
                "record_keys": certificate.record_keys,
                "rows_per_table": json.dumps(log.rows, sort_keys=True),
                "versions_purged": json.dumps(log.versions_purged, sort_keys=True),
                "removed_files": [p for p, _ in log.removed_files],
                "removed_sha256": [s for _, s in log.removed_files],
                "rewritten_files": [p for p, _ in log.rewritten_files],
                "rewritten_sha256": [s for _, s in log.rewritten_files],
            }
        ],
        schema_overrides={
            "record_keys": pl.List(pl.String),
            "removed_files": pl.List(pl.String),
            "removed_sha256": pl.List(pl.String),
            "rewritten_files": pl.List(pl.String),
            "rewritten_sha256": pl.List(pl.String),
        },
    )
    append_frame(env, "ops.destructions", row, run_id=certificate.destruction_id)


def apply_retention(env: Environment, now: datetime | None = None) -> list[Certificate]:
    """The daily job: destroy bronze rows older than each dataset's `retention_days`."""
    now = now or datetime.now(UTC)
    certificates = []
    for dataset in load_catalogue(env.catalogue_dir).values():
        bronze = read_path(env.table_path(f"bronze.{dataset.name}"))
        cutoff = now - timedelta(days=dataset.retention_days)
        if bronze is not None and bronze.filter(pl.col("_ingested_at") < cutoff).height:
            certificates.append(
                destroy(
                    env,
                    dataset.name,
                    reason=f"retention: {dataset.retention_days} days",
                    user="retention-job",
                    older_than=cutoff,
                )
            )
    return certificates
