"""`lakehouse audit-report --from DATE --to DATE`: the auditor's report, as HTML and JSON."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestration.cli.app import app
from orchestration.cli.output import console, fail
from transforms.config import get_environment


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not an ISO date (YYYY-MM-DD)")


@app.command("audit-report")
def audit_report(
    start: Annotated[str, typer.Option("--from", help="First day of the period (ISO date).")],
    end: Annotated[str, typer.Option("--to", help="Last day of the period, included (ISO date).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder to write to (default reports/audit/<from>_<to>/)."),
    ] = None,
) -> None:
    """Retention, destruction, disclosure, access, authorisation and output for a period, as HTML and JSON."""
    from transforms.governance.audit_report import write_report

    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        fail(f"--to {last} is before --from {first}")
    html, json_path, report = write_report(get_environment(), first, last, out=out)
    for line in [*summary(report), f"html: {html}", f"json: {json_path}"]:
        console.print(line, soft_wrap=True, markup=False, highlight=False)


def summary(report: dict[str, Any]) -> list[str]:
    """One short line per section, then one per finding."""
    ret, des = report["retention"], report["destruction"]
    dis, acc = report["disclosure"], report["access"]
    auth, out = report["authorisation"], report["output"]["totals"]
    check = des["reverification"]
    lines = [
        f"Auditor's report {report['period']['from']} to {report['period']['to']}",
        f"retention: {ret['records_past_retention']} records past retention across "
        f"{len(ret['datasets'])} datasets; {len(ret['retention_runs'])} retention runs destroyed records",
        f"destruction: {len(des['destructions'])} certificates, {des['record_keys']} keys; "
        f"re-verified {'clean' if check['clean'] else 'NOT clean'} over "
        f"{check['tables_checked']} tables, {check['versions_checked']} versions",
        f"disclosure: {len(dis['cuts'])} cuts, {dis['rows']:,} rows, "
        f"{dis['withheld_above_clearance']:,} withheld above clearance; checksums "
        f"{'verified' if dis['all_verified'] else 'NOT verified'}",
        f"access: {acc['queries']} queries, {acc['searches']} searches, {acc['refusals']} refused, "
        f"{len(acc['above_clearance_attempts'])} reads above clearance attempted, "
        f"{len(acc['reclassifications'])} reclassifications",
        f"authorisation: expiring within {auth['warning_days']} days: "
        f"{', '.join(auth['expiring_soon']) or 'none'}; not current: "
        f"{', '.join(auth['not_current']) or 'none'}; {len(auth['refused_by_gate'])} deliveries "
        "refused by the gate",
        f"output: {out['bulk_searches']} bulk searches, {out['subjects_searched']} subjects, "
        f"{out['entities_found']} entities found, {out['links_found']} links found",
        f"tamper evidence: {report['tamper_evidence']['verdict']}",
    ]
    for finding in report["findings"]:
        mark = (
            "pass"
            if finding["passed"]
            else "warning"
            if finding.get("severity") == "warn"
            else "FAIL"
        )
        lines.append(f"  {mark} {finding['check']}: {finding['detail']}")
    return lines
