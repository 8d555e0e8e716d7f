"""`reports/audit_report`: the auditor's report of the previous calendar month, monthly.

The tick is declared on the asset (`on_schedule`, as the partner cuts' crons are): 06:00 on the
1st, once nothing it reads is being rebuilt. The report's findings are its checks: a record past
retention, a destroyed key still readable, a cut whose files no longer match its manifest or a
broken audit chain fail; an authorisation not current warns.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import dagster as dg

from orchestration.automation import on_schedule
from orchestration.resources import LakehouseResource
from transforms.catalogue import Dataset
from transforms.governance.audit_report import previous_month, write_report
from transforms.governance.partners import Partner
from transforms.html_pages import remote_references

KEY = dg.AssetKey(["reports", "audit_report"])
MONTHLY = "0 6 1 * *"
TIMEZONE = "Europe/London"
CHECKS = {
    "no_records_past_retention": "No bronze record is older than its dataset's retention_days.",
    "destructions_reverified": "Every key destroyed in the month is absent from every table "
    "and retained version; purged versions are unreadable.",
    "cut_checksums_verified": "Every cut of the month still matches its manifest's sha256.",
    "authorisations_current": "Every dataset's authorisation is current (warns).",
    "audit_chain_intact": "The ops.audit_log hash chain verifies.",
    "renders_offline": "The page makes no network load.",
}
WARN_ONLY = {"authorisations_current"}


def audit_report_asset(
    catalogue: dict[str, Dataset], partners: Iterable[Partner]
) -> dg.AssetsDefinition:
    """The monthly report; it reads every bronze table (retention) and every partner's cuts."""

    @dg.asset(
        key=KEY,
        deps=[
            *(dg.AssetKey(["bronze", d]) for d in sorted(catalogue)),
            *(dg.AssetKey(["cuts", p.name]) for p in partners),
        ],
        group_name="governance",
        automation_condition=on_schedule(MONTHLY, TIMEZONE),
        kinds={"html", "json"},
        description="The auditor's report of the previous calendar month (retention, "
        "destruction, disclosure, access, authorisation, output, tamper evidence) as "
        "self-contained HTML and JSON under reports/audit/<from>_<to>/.",
        check_specs=[
            dg.AssetCheckSpec(name, asset=KEY, description=text) for name, text in CHECKS.items()
        ],
    )
    def audit_report(lakehouse: LakehouseResource) -> dg.MaterializeResult:
        now = datetime.now(UTC)
        period = previous_month(now.date())
        html, json_path, report = write_report(lakehouse.env(), period.start, period.end, now=now)
        remote = remote_references(html.read_text(encoding="utf-8"))
        results = [
            dg.AssetCheckResult(
                check_name=f["check"],
                passed=bool(f["passed"]),
                severity=dg.AssetCheckSeverity.WARN
                if f["check"] in WARN_ONLY
                else dg.AssetCheckSeverity.ERROR,
                metadata={"detail": f["detail"]},
            )
            for f in report["findings"]
        ]
        results.append(
            dg.AssetCheckResult(
                check_name="renders_offline",
                passed=not remote,
                metadata={"remote": ", ".join(remote) or "none"},
            )
        )
        return dg.MaterializeResult(
            metadata={
                "from": period.start.isoformat(),
                "to": period.end.isoformat(),
                "html": dg.MetadataValue.path(str(html)),
                "json": dg.MetadataValue.path(str(json_path)),
                "destructions": len(report["destruction"]["destructions"]),
                "cuts": len(report["disclosure"]["cuts"]),
                "refusals": report["access"]["refusals"],
                "expiring_soon": ", ".join(report["authorisation"]["expiring_soon"]) or "none",
                "audit_chain": report["tamper_evidence"]["verdict"],
            },
            check_results=results,
        )

    return audit_report
