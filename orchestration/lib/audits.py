"""The two checks every write-audit-publish table carries, and their results, for any domain."""

from __future__ import annotations

import dagster as dg
import polars as pl

from orchestration.metadata import table_metadata
from transforms.quality.wap import Audit

AUDIT_BLOCKING = "audit_blocking"
AUDIT_WARNINGS = "audit_warnings"


def audit_check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """The two checks every audited table carries: blocking (schema, keys, lineage) and warnings."""
    return [
        dg.AssetCheckSpec(
            AUDIT_BLOCKING,
            asset=key,
            blocking=True,
            description="Schema, key and lineage expectations; a failure publishes nothing.",
        ),
        dg.AssetCheckSpec(
            AUDIT_WARNINGS,
            asset=key,
            description="Row-level value and format expectations; failing rows are quarantined.",
        ),
    ]


def audit_results(key: dg.AssetKey, audit: Audit) -> list[dg.AssetCheckResult]:
    """The audit of one table as Dagster check results a steward can act on."""
    warnings = [c for c in audit.checks if c["severity"] != "blocking" and not c["passed"]]
    blocking = [c for c in audit.checks if c["severity"] == "blocking" and not c["passed"]]

    def summary(rows: list[dict[str, object]]) -> dict[str, object]:
        return {
            "failing_checks": len(rows),
            "details": table_metadata(
                pl.DataFrame(rows).select("check", "failing", "failing_share", "sample_keys")
            )
            if rows
            else "none",
        }

    return [
        dg.AssetCheckResult(
            asset_key=key,
            check_name=AUDIT_BLOCKING,
            passed=not blocking,
            metadata={**summary(blocking), "candidate_version": audit.candidate_version},
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=AUDIT_WARNINGS,
            passed=not warnings,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={**summary(warnings), "quarantined_rows": audit.quarantined},
        ),
    ]
