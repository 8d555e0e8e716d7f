"""Destruction: every certificate of the period, and a re-verification run now.

The re-verification looks for every destroyed record key in every Delta table that carries
record keys (bronze through its catalogue `record_id`, and the key columns the purge drops by),
at the current version *and* at every version its history still lists, newest first, up to
`max_versions` per table (the bound is reported). It also opens the versions each certificate
says were purged: each must no longer be readable. `ops.destructions` itself is not searched:
the certificate has to name what it destroyed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import polars as pl
from deltalake import DeltaTable

from transforms.catalogue import Dataset
from transforms.config import Environment
from transforms.governance.audit_report.common import Period, in_period, jsonable, read_ops
from transforms.governance.destruction import delta_tables
from transforms.governance.purge import KEY_COLUMNS
from transforms.storage import StoragePath

DESTRUCTIONS = "ops.destructions"
KEY_LISTS = ("sample_keys", "record_keys")  # list columns that name records
MAX_VERSIONS = 50  # retained versions searched per table, newest first
PURGED_PROBES = 3  # the newest purged versions opened per table and certificate, and the oldest


def destruction_section(
    env: Environment,
    catalogue: dict[str, Dataset],
    period: Period,
    *,
    max_versions: int = MAX_VERSIONS,
) -> dict[str, Any]:
    """The period's certificates and whether their records are still absent everywhere."""
    found = in_period(read_ops(env, DESTRUCTIONS, "at"), "at", period)
    certificates = [_certificate(row) for row in found.to_dicts()]
    keys = sorted({k for c in certificates for k in c["record_keys"]})
    check = reverify(env, catalogue, keys, max_versions=max_versions)
    check["purged_versions"] = _purged_still_unreadable(env, certificates)
    check["clean"] = not check["present"] and all(
        p["readable"] == 0 for p in check["purged_versions"]
    )
    return {"destructions": certificates, "record_keys": len(keys), "reverification": check}


def _certificate(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "destruction_id": row["destruction_id"],
        "at": jsonable(row["at"]),
        "user": row["user"],
        "reason": row["reason"],
        "dataset": row["dataset"],
        "scope": row["scope"],
        "record_keys": list(row["record_keys"] or []),
        "rows_per_table": json.loads(row["rows_per_table"] or "{}"),
        "versions_purged": json.loads(row["versions_purged"] or "{}"),
        "removed_files": [
            {"path": p, "sha256": s}
            for p, s in zip(row["removed_files"] or [], row["removed_sha256"] or [], strict=True)
        ],
        "rewritten_files": [
            {"path": p, "sha256": s}
            for p, s in zip(
                row["rewritten_files"] or [], row["rewritten_sha256"] or [], strict=True
            )
        ],
    }


def reverify(
    env: Environment,
    catalogue: dict[str, Dataset],
    keys: list[str],
    *,
    max_versions: int = MAX_VERSIONS,
) -> dict[str, Any]:
    """Where any of `keys` can still be read: table, version, column (empty `present` = clean)."""
    tables: list[dict[str, Any]] = []
    present: list[dict[str, Any]] = []
    if keys:
        for path in delta_tables(env):
            label = ".".join(path.relative_to(env.delta).parts)
            if label == DESTRUCTIONS:
                continue
            checked = _check_table(path, label, catalogue, set(keys), max_versions)
            if checked is None:
                continue
            tables.append(checked["table"])
            present += checked["present"]
    return {
        "keys_searched": len(keys),
        "tables_checked": len(tables),
        "versions_checked": sum(t["versions_checked"] for t in tables),
        "tables": tables,
        "present": present,
        "bound": f"up to {max_versions} retained versions per table, newest first; "
        f"{sum(t['versions_not_checked'] for t in tables)} older retained versions not searched",
    }


def _key_columns(path: StoragePath, label: str, catalogue: dict[str, Dataset]) -> list[str]:
    names = {f.name for f in DeltaTable(str(path)).schema().fields}
    layer, _, name = label.partition(".")
    if layer == "bronze" and name in catalogue:
        wanted = catalogue[name].source.record_id
        return wanted if set(wanted) <= names else []
    return [c for c in (*KEY_COLUMNS, *KEY_LISTS) if c in names]


def _check_table(
    path: StoragePath,
    label: str,
    catalogue: dict[str, Dataset],
    keys: set[str],
    max_versions: int,
) -> dict[str, Any] | None:
    columns = _key_columns(path, label, catalogue)
    if not columns:
        return None
    versions = sorted({int(e["version"]) for e in DeltaTable(str(path)).history()}, reverse=True)
    present, checked, unreadable = [], 0, 0
    for version in versions[:max_versions]:
        try:
            snapshot = DeltaTable(str(path), version=version)
            frame = pl.from_arrow(snapshot.to_pyarrow_table(columns=columns))
        except Exception:  # noqa: BLE001 - delta-rs raises several kinds for a purged version
            unreadable += 1
            continue
        assert isinstance(frame, pl.DataFrame)
        checked += 1
        for column, hits in _hits(frame, label, catalogue, keys).items():
            present.append({"table": label, "version": version, "column": column, "keys": hits})
    return {
        "table": {
            "table": label,
            "columns": columns,
            "current_version": versions[0] if versions else None,
            "versions_checked": checked,
            "versions_unreadable": unreadable,
            "versions_not_checked": max(len(versions) - max_versions, 0),
        },
        "present": present,
    }


def _hits(
    frame: pl.DataFrame, label: str, catalogue: dict[str, Dataset], keys: set[str]
) -> dict[str, list[str]]:
    wanted = sorted(keys)
    layer, _, name = label.partition(".")
    if layer == "bronze" and name in catalogue:
        record_ids = catalogue[name].source.record_id
        built = frame.select(
            pl.concat_str(
                [
                    pl.lit(f"{name}:"),
                    pl.concat_str([pl.col(c).cast(pl.String) for c in record_ids], separator="|"),
                ]
            )
        ).to_series()
        found = sorted(set(built.filter(built.is_in(wanted)).to_list()))
        return {"+".join(record_ids): found} if found else {}
    hits: dict[str, list[str]] = {}
    for column in frame.columns:
        series = frame[column]
        if isinstance(series.dtype, pl.List):
            series = series.explode()
        values = series.cast(pl.String)
        found = sorted(set(values.filter(values.is_in(wanted)).to_list()))
        if found:
            hits[column] = found
    return hits


def _purged_still_unreadable(
    env: Environment, certificates: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Open the newest versions each certificate purged, and its oldest: none may be readable."""
    probes = []
    for certificate in certificates:
        for label, versions in certificate["versions_purged"].items():
            path = env.delta.joinpath(*label.split("."))
            if not DeltaTable.is_deltatable(str(path)):
                continue
            sample = sorted({*sorted(versions)[-PURGED_PROBES:], *sorted(versions)[:1]})
            readable = [v for v in sample if _readable(path, v)]
            probes.append(
                {
                    "destruction_id": certificate["destruction_id"],
                    "table": label,
                    "versions_purged": len(versions),
                    "probed": len(sample),
                    "readable": len(readable),
                    "readable_versions": readable,
                }
            )
    return probes


def _readable(path: StoragePath, version: int) -> bool:
    try:
        DeltaTable(str(path), version=version).to_pyarrow_dataset()
    except Exception:  # noqa: BLE001 - delta-rs raises several kinds for a purged version
        return False
    return True
