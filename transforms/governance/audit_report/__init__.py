"""The auditor's report (issue 20): retention, destruction, disclosure, access, authorisation,
output and tamper evidence for a period, as one self-contained HTML page and the same facts as JSON.

`build_report` gathers the facts (each section a module of this package, read-only over the
lakehouse) and re-verifies what can be re-verified now: the queries proving no record is past
retention, destroyed keys absent from every table and retained version, each cut's files against
its manifest, the audit log's hash chain. `findings` turns them into pass/fail lines (the
monthly asset's checks). `write_report` writes both files atomically under
`reports/audit/<from>_<to>/`.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from transforms.catalogue import load_catalogue
from transforms.config import Environment
from transforms.governance.audit_report.access import access_section, audit_rows
from transforms.governance.audit_report.authorisation import authorisation_section
from transforms.governance.audit_report.common import Period, jsonable, previous_month
from transforms.governance.audit_report.destruction import destruction_section
from transforms.governance.audit_report.disclosure import disclosure_section
from transforms.governance.audit_report.output import output_section, tasks_section
from transforms.governance.audit_report.page import render_html
from transforms.governance.audit_report.retention import retention_section
from transforms.storage import StoragePath, make_dirs, storage_path, write_text_atomic

__all__ = [
    "Period",
    "build_report",
    "findings",
    "previous_month",
    "render_html",
    "report_folder",
    "write_report",
]

HTML_NAME = "audit_report.html"
JSON_NAME = "audit_report.json"


def tamper_evidence(env: Environment) -> dict[str, Any]:
    """The verdict on `ops.audit_log`'s hash chain, and where it breaks."""
    try:
        from transforms.governance.audit_chain import verify_audit_log
    except ImportError:  # the chained audit log is not part of this installation yet
        return {
            "available": False,
            "ok": None,
            "rows": None,
            "first_break": None,
            "breaks": [],
            "verdict": "audit-log chain verification unavailable",
        }
    report = verify_audit_log(env)
    return {
        "available": True,
        "ok": report.ok,
        "rows": report.rows,
        "first_break": report.first_break,
        "breaks": [
            {"seq": b.seq, "kind": b.kind, "detail": b.detail, "description": b.describe()}
            for b in report.breaks
        ],
        "verdict": report.verdict,
    }


def build_report(
    env: Environment, start: date, end: date, now: datetime | None = None
) -> dict[str, Any]:
    """Every section's facts for the days `start` to `end` (inclusive), JSON-serialisable."""
    period = Period(start, end)
    now = now or datetime.now(UTC)
    catalogue = load_catalogue(env.catalogue_dir)
    log = audit_rows(env, period)
    report: dict[str, Any] = {
        "title": "Auditor's report",
        "period": period.to_dict(),
        "generated_at": jsonable(now),
        "lakehouse": str(env.home),
        "retention": retention_section(env, catalogue, period, now),
        "destruction": destruction_section(env, catalogue, period),
        "disclosure": disclosure_section(env, period),
        "access": access_section(env, period, log),
        "authorisation": authorisation_section(env, catalogue, period, now.date()),
        "output": output_section(env, period),
        "tasks": tasks_section(env, period, log),
        "tamper_evidence": tamper_evidence(env),
    }
    report["findings"] = findings(report)
    return report


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One pass/fail line per thing the report proves (the asset's checks, the page's summary)."""
    past = report["retention"]["records_past_retention"]
    check = report["destruction"]["reverification"]
    cuts = report["disclosure"]["cuts"]
    broken = [f"{c['partner']}/{c['run_id']}" for c in cuts if not c["verified"]]
    auth = report["authorisation"]
    chain = report["tamper_evidence"]
    return [
        {
            "check": "no_records_past_retention",
            "passed": past == 0,
            "detail": f"{past} records past retention",
        },
        {
            "check": "destructions_reverified",
            "passed": bool(check["clean"]),
            "detail": f"{check['keys_searched']} destroyed keys searched in {check['tables_checked']} "
            f"tables, {check['versions_checked']} versions: "
            + (
                "absent everywhere"
                if not check["present"]
                else f"still present in {len(check['present'])} table versions"
            )
            + (
                ""
                if all(p["readable"] == 0 for p in check["purged_versions"])
                else "; a purged version is readable"
            ),
        },
        {
            "check": "cut_checksums_verified",
            "passed": not broken,
            "detail": f"{len(cuts)} cuts; "
            + ("all verify" if not broken else "failing: " + ", ".join(broken)),
        },
        {
            "check": "authorisations_current",
            "passed": not auth["not_current"],
            "severity": "warn",
            "detail": (
                f"not current: {', '.join(auth['not_current']) or 'none'}; expiring within "
                f"{auth['warning_days']} days: {', '.join(auth['expiring_soon']) or 'none'}"
            ),
        },
        {
            "check": "audit_chain_intact",
            "passed": chain["ok"] is not False,
            "detail": chain["verdict"],
        },
    ]


def report_folder(env: Environment, start: date, end: date) -> StoragePath:
    """`reports/audit/<from>_<to>/` under the lakehouse home."""
    return env.reports / "audit" / f"{start.isoformat()}_{end.isoformat()}"


def write_report(
    env: Environment,
    start: date,
    end: date,
    *,
    now: datetime | None = None,
    out: str | Path | None = None,
) -> tuple[StoragePath, StoragePath, dict[str, Any]]:
    """Build the report and write its HTML and JSON (atomically); returns both paths and it."""
    report = build_report(env, start, end, now)
    folder = storage_path(out) if out is not None else report_folder(env, start, end)
    make_dirs(folder)
    html_path, json_path = folder / HTML_NAME, folder / JSON_NAME
    write_text_atomic(json_path, json.dumps(report, indent=2, sort_keys=False) + "\n")
    write_text_atomic(html_path, render_html(report))
    return html_path, json_path, report
