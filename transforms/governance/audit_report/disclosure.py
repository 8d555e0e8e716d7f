"""Disclosure: every partner cut of the period, its manifest re-verified against the files held.

Each file the manifest lists is hashed again: `ok`, `mismatch` or `missing`. The manifest itself
must hash to what `ops.disclosures` recorded, unless a destruction redacted our copy of the cut
since (the manifest then lists the redaction), in which case it must hash to what that
destruction's certificate recorded writing: `redacted`. Anything else is a `mismatch`.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

import polars as pl

from transforms.config import Environment
from transforms.governance.audit_report.common import Period, in_period, jsonable, read_ops
from transforms.governance.cuts import DISCLOSURES, MANIFEST
from transforms.storage import StoragePath, sha256_file


def disclosure_section(env: Environment, period: Period) -> dict[str, Any]:
    """The period's cuts, each with its re-verified checksums."""
    found = in_period(read_ops(env, DISCLOSURES, "generated_at"), "generated_at", period)
    rewritten = _rewritten_by_destructions(env)
    cuts = [_cut(env, row, rewritten) for row in found.to_dicts()]
    return {
        "cuts": cuts,
        "rows": sum(c["rows"] for c in cuts),
        "withheld_above_clearance": sum(c["withheld_above_clearance"] or 0 for c in cuts),
        "all_verified": all(c["verified"] for c in cuts),
    }


def _rewritten_by_destructions(env: Environment) -> dict[tuple[str, str], str]:
    """(partner, run id) -> the manifest sha256 the latest destruction rewriting it recorded.

    Certificates name files by their path when destroyed; the home may have moved since, so a
    manifest is recognised by its `cuts/<partner>/<run>/manifest.json` tail.
    """
    destructions = read_ops(env, "ops.destructions", "at")
    latest: dict[tuple[str, str], str] = {}
    for row in [] if destructions is None else destructions.to_dicts():
        for path, sha in zip(
            row["rewritten_files"] or [], row["rewritten_sha256"] or [], strict=True
        ):
            parts = PurePath(path).parts
            if len(parts) >= 4 and parts[-4] == "cuts" and parts[-1] == MANIFEST:
                latest[(parts[-3], parts[-2])] = sha
    return latest


def _folder(env: Environment, row: dict[str, Any]) -> StoragePath:
    return env.cuts / row["partner"] / row["run_id"]


def _cut(
    env: Environment, row: dict[str, Any], rewritten: dict[tuple[str, str], str]
) -> dict[str, Any]:
    folder = _folder(env, row)
    manifest_path = folder / MANIFEST
    entry: dict[str, Any] = {
        "partner": row["partner"],
        "clearance": row["clearance"],
        "task": row.get("task"),
        "run_id": row["run_id"],
        "generated_at": jsonable(row["generated_at"]),
        "classification": row["classification"],
        "agreement": row["agreement"],
        "rows": int(row["rows"] or 0),
        "withheld": int(row["withheld"] or 0),
        "withheld_above_clearance": None,
        "folder": str(folder),
        "manifest": "missing",
        "manifest_sha256_recorded": row["manifest_sha256"],
        "manifest_sha256_now": None,
        "redactions": [],
        "files": [],
        "unlisted_files": [],
    }
    if not manifest_path.is_file():
        entry["verified"] = False
        return entry
    now = sha256_file(manifest_path)
    entry["manifest_sha256_now"] = now
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        tables = list(manifest["tables"])
    except (ValueError, KeyError, TypeError):
        entry["manifest"] = "unreadable"
        entry["verified"] = False
        return entry
    entry["redactions"] = list(manifest.get("redactions") or [])
    if now == row["manifest_sha256"]:
        entry["manifest"] = "ok"
    elif entry["redactions"] and rewritten.get((row["partner"], row["run_id"])) == now:
        entry["manifest"] = "redacted"
    else:
        entry["manifest"] = "mismatch"
    entry["withheld_above_clearance"] = sum(
        int(t.get("withheld_above_clearance") or 0) for t in tables
    )
    recorded = dict(zip(row["files"] or [], row["sha256"] or [], strict=True))
    listed = set()
    for table in tables:
        for file in table.get("files", []):
            listed.add(file["name"])
            entry["files"].append(_file(folder, table["table"], file, recorded))
    entry["unlisted_files"] = sorted(
        p.name for p in folder.iterdir() if p.name not in listed | {MANIFEST}
    )
    entry["verified"] = (
        entry["manifest"] in ("ok", "redacted")
        and all(f["status"] == "ok" for f in entry["files"])
        and not entry["unlisted_files"]
    )
    return entry


def _file(
    folder: StoragePath, table: str, file: dict[str, Any], recorded: dict[str, str]
) -> dict[str, Any]:
    path = folder / file["name"]
    now = sha256_file(path) if path.is_file() else None
    status = "missing" if now is None else "ok" if now == file["sha256"] else "mismatch"
    return {
        "table": table,
        "name": file["name"],
        "sha256_manifest": file["sha256"],
        "sha256_now": now,
        "status": status,
        # a copy redacted by a destruction no longer hashes to what was disclosed
        "as_disclosed": recorded.get(file["name"]) == now,
    }


def cut_rows(cuts: list[dict[str, Any]]) -> pl.DataFrame:
    """One line per cut, for summaries."""
    return pl.DataFrame(
        [
            {
                "partner": c["partner"],
                "clearance": c["clearance"],
                "task": c["task"],
                "rows": c["rows"],
                "withheld_above_clearance": c["withheld_above_clearance"],
                "manifest": c["manifest"],
                "files_ok": sum(f["status"] == "ok" for f in c["files"]),
                "files": len(c["files"]),
                "verified": c["verified"],
            }
            for c in cuts
        ]
    )
