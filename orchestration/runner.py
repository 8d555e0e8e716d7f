"""Materialise assets in-process, the way `lakehouse run` and `make demo` do."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from transforms.config import Environment, disable_telemetry, prepare_dagster_home


@dataclass
class RunReport:
    """What an in-process run materialised and what failed, per step."""

    run_id: str
    success: bool
    materialized: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    checks_failed: list[str] = field(default_factory=list)
    step_seconds: dict[str, float] = field(default_factory=dict)  # wall time of each step
    step_assets: dict[str, list[str]] = field(default_factory=dict)  # what each step materialised


def load_definitions() -> dg.Definitions:
    """The deployed definitions (imports lazily, after telemetry is off)."""
    disable_telemetry()
    from orchestration.definitions import defs

    return defs


def run_assets(
    env: Environment,
    selection: str | None = None,
    *,
    defs: dg.Definitions | None = None,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "INFO",
    run_config: dict[str, object] | None = None,
) -> RunReport:
    """Materialise the whole graph, or `selection` (Dagster's asset selection syntax)."""
    defs = defs or load_definitions()
    if instance is None:
        prepare_dagster_home(env)
        instance = dg.DagsterInstance.get()
    result = dg.materialize(
        [*(defs.assets or []), *(defs.asset_checks or [])],
        resources=defs.resources,
        selection=selection,
        instance=instance,
        raise_on_error=False,
        run_config={
            "loggers": {"console": {"config": {"log_level": log_level}}},
            **(run_config or {}),
        },
        tags={"launched_by": "lakehouse run"},
    )
    report = RunReport(run_id=result.run_id, success=result.success)
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION" and event.asset_key:
            report.materialized.append(event.asset_key.to_user_string())
            if event.step_key:
                report.step_assets.setdefault(event.step_key, []).append(
                    event.asset_key.to_user_string()
                )
        elif event.event_type_value == "STEP_FAILURE" and event.step_key:
            error = event.step_failure_data.error if event.step_failure_data else None
            report.failures[event.step_key] = _first_line(error.message if error else "failed")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation is not None and not evaluation.passed:
                report.checks_failed.append(
                    f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                )
    report.step_seconds = step_seconds(instance, result.run_id)
    return report


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Wall time of each step of a run, from the event log's start and end timestamps."""
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type_value == "STEP_START":
            started[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            begin = started.get(event.step_key, entry.timestamp)
            seconds[event.step_key] = round(entry.timestamp - begin, 3)
    return seconds


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else text
