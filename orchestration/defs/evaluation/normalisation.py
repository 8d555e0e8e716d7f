"""`ops.normalisation_report`: share of records normalised to their clean value, per field."""

import dagster as dg

from orchestration.automation import WAREHOUSE_POOL, downstream_condition
from orchestration.metadata import table_metadata
from orchestration.resources import LakehouseResource
from transforms.evaluate.normalisation import GOAL
from transforms.evaluate.reports import (
    current_normalisation_report,
    has_truth,
    invalid_value_counts,
    store_report,
)

KEY = dg.AssetKey(["ops", "normalisation_report"])


@dg.asset(
    key=KEY,
    deps=[
        *(dg.AssetKey(["silver", t]) for t in ("person_records", "addresses", "comms_identifiers")),
        dg.AssetKey(["dbt", "silver", "normalisation_invalid_counts"]),
    ],
    group_name="evaluation",
    automation_condition=downstream_condition(),
    pool=WAREHOUSE_POOL,  # reads dbt's invalid-value counts from the warehouse
    description="Per dataset and field, the share of records whose normalised value equals the "
    "generator's clean value (format variation only; content noise excluded).",
    kinds={"delta", "polars"},
    check_specs=[
        dg.AssetCheckSpec(
            "normalisation_goal",
            asset=KEY,
            description=f"Every field of every dataset at or above {GOAL:.0%}.",
        )
    ],
)
def normalisation_report(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    env = lakehouse.env()
    if not has_truth(env):
        return dg.MaterializeResult(
            metadata={"status": "no ground truth (not a synthetic catalogue)"},
            check_results=[
                dg.AssetCheckResult(
                    check_name="normalisation_goal",
                    passed=True,
                    metadata={"status": "skipped: no ground truth"},
                )
            ],
        )
    invalid = invalid_value_counts(env)
    report = current_normalisation_report(env)
    store_report(env, "normalisation_report", report, context.run.run_id)
    below = report.filter(~report["meets_goal"])
    return dg.MaterializeResult(
        metadata={
            "report": table_metadata(report),
            "lowest_share": float(report["share"].min() or 0.0),
            "fields_below_goal": below.height,
            "invalid_values": table_metadata(invalid) if invalid.height else "none",
            "invalid_values_total": int(invalid["invalid_values"].sum()) if invalid.height else 0,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="normalisation_goal",
                passed=below.height == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"below_goal": table_metadata(below) if below.height else "none"},
            )
        ],
    )
