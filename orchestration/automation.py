"""How the lakehouse keeps itself current: the automation conditions and the warehouse pool.

Every asset downstream of bronze runs when an input changed, once nothing upstream is still
running and no blocking check upstream failed on its latest materialisation; a delivery that
fails one goes no further. (Dagster's `all_deps_blocking_checks_passed` also holds back a check
that has never run, e.g. a dataset with no delivery yet, which would stop the graph for good.)
Dagster's `eager()` also waits while any input is *missing*. A delivery partition that was
rejected, or recognised as a duplicate, is never materialised and so stays missing for good,
which would stop the whole graph after the first bad delivery; so the condition below is eager()
without that clause (a bronze table with no delivery at all is simply read as absent).
"""

from __future__ import annotations

import dagster as dg

# DuckDB allows one process per database file: every step that opens the warehouse holds this
# pool, whose limit (1) the shipped dagster.yaml sets, so queued steps wait instead of failing.
WAREHOUSE_POOL = "duckdb_warehouse"


def downstream_condition() -> dg.AutomationCondition:
    """Run when an input updated, nothing upstream is in progress, and no blocking check upstream
    failed on its latest materialisation."""
    return (
        (
            dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()
        ).since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
        & ~dg.AutomationCondition.any_deps_match(
            dg.AutomationCondition.any_checks_match(
                dg.AutomationCondition.check_failed(), blocking_only=True
            )
        ).with_label("no blocking check upstream failed")
    ).with_label("when inputs change and no blocking check upstream failed")


def on_schedule(cron: str, timezone: str) -> dg.AutomationCondition:
    """Run on each tick of `cron`, once nothing it reads is being rebuilt."""
    return (
        dg.AutomationCondition.cron_tick_passed(cron, timezone).since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label(f"on {cron} ({timezone}), after upstream runs finish")


def automation_sensor(interval_seconds: int) -> dg.AutomationConditionSensorDefinition:
    """The one sensor that evaluates every asset's condition (running by default)."""
    return dg.AutomationConditionSensorDefinition(
        "lakehouse_automation",
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=interval_seconds,
        description="Carries every delivery from bronze through dbt, silver and gold to the reports.",
    )
