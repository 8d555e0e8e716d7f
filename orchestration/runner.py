"""Materialise assets in-process, the way `lakehouse run` and `make demo` do.

A run of the graph is one Dagster run per pending delivery (each delivery is a partition of its
bronze asset), then one run for everything downstream, skipped when a delivery failed a
blocking check. One `lakehouse run` holds the lakehouse at a time: a second one waits (or, asked
not to, stops) and says which run it waits for.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from transforms.catalogue import load_catalogue
from transforms.config import Environment, disable_telemetry, prepare_dagster_home
from transforms.ingest import pending_deliveries
from transforms.locks import RUN, exclusive

RUN_TAG = "launched_by"
RUN_TAG_VALUE = "lakehouse run"
DOWNSTREAM_JOB = "lakehouse_run"


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
    run_ids: list[str] = field(default_factory=list)  # every Dagster run this one made
    blocked: list[str] = field(default_factory=list)  # blocking checks that stopped propagation
    log_file: str = ""


class StepListener:
    """Told of each step as it starts and ends (the progress view)."""

    def planned(self, steps: int) -> None: ...
    def started(self, step: str) -> None: ...
    def finished(self, step: str, status: str) -> None: ...


def load_definitions() -> dg.Definitions:
    """The deployed definitions (imports lazily, after telemetry is off)."""
    disable_telemetry()
    from orchestration.definitions import defs

    return defs


def definitions_for(env: Environment) -> dg.Definitions:
    """The deployed definitions built for `env` by the function the code location uses."""
    disable_telemetry()
    from orchestration.build import build_definitions

    return build_definitions(env)


def run_assets(
    env: Environment,
    selection: str | None = None,
    *,
    defs: dg.Definitions | None = None,
    instance: dg.DagsterInstance | None = None,
    run_config: dict[str, object] | None = None,
    listener: StepListener | None = None,
    log_handler: logging.Handler | None = None,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> RunReport:
    """Materialise the whole graph, or `selection` (Dagster's asset selection syntax).

    Raises `transforms.locks.LockBusy` when another `lakehouse run` holds the lakehouse and
    `wait` is False.
    """
    defs = defs or definitions_for(env)
    with exclusive(env, RUN, "lakehouse run", wait=wait, on_wait=on_wait):
        if instance is None:  # under the lock: two first runs would both create its tables
            prepare_dagster_home(env)
            instance = dg.DagsterInstance.get()
        fail_abandoned_runs(instance)
        return _run_locked(
            env,
            defs,
            instance,
            selection,
            run_config or {},
            listener or StepListener(),
            log_handler,
        )


def _run_locked(
    env: Environment,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    selection: str | None,
    run_config: dict[str, object],
    listener: StepListener,
    log_handler: logging.Handler | None,
) -> RunReport:
    graph = defs.resolve_asset_graph()
    selected = (
        dg.AssetSelection.from_string(selection) if selection else dg.AssetSelection.all()
    ).resolve(graph)
    partitioned = sorted(k for k in selected if graph.get(k).partitions_def is not None)
    rest = [k for k in selected if graph.get(k).partitions_def is None]
    deliveries = _pending_partitions(env, partitioned)
    for key, ids in deliveries.items():
        partitions = graph.get(key).partitions_def
        assert isinstance(partitions, dg.DynamicPartitionsDefinition) and partitions.name
        instance.add_dynamic_partitions(partitions.name, ids)
    listener.planned(sum(len(ids) for ids in deliveries.values()) + _steps(graph, rest))
    jobs = _jobs(defs, [*deliveries], rest, listener, log_handler)
    report = RunReport(run_id="", success=True)
    for key, ids in deliveries.items():
        for delivery_id in ids:
            result = _execute(jobs, _job_name(key), instance, run_config, delivery_id)
            _collect(report, result, instance)
    blocking = {c for c in report.checks_failed if _is_blocking(graph, c)}
    report.blocked = sorted(blocking)
    if rest and not blocking:
        _collect(report, _execute(jobs, DOWNSTREAM_JOB, instance, run_config), instance)
    report.run_id = report.run_ids[-1] if report.run_ids else ""
    return report


def _pending_partitions(
    env: Environment, keys: Iterable[dg.AssetKey]
) -> dict[dg.AssetKey, list[str]]:
    """Each partitioned (bronze) asset's deliveries the ledger has not settled, in order."""
    catalogue = load_catalogue(env.catalogue_dir)
    pending: dict[dg.AssetKey, list[str]] = {}
    for key in keys:
        dataset = catalogue.get(key.path[-1])
        ids = pending_deliveries(env, dataset) if dataset else []
        if ids:
            pending[key] = ids
    return pending


def _is_blocking(graph: Any, check: str) -> bool:
    asset, _, name = check.rpartition(":")
    key = dg.AssetCheckKey(dg.AssetKey.from_user_string(asset), name)
    spec = graph.get_check_spec(key) if graph.has(key) else None
    return bool(spec and spec.blocking)


def _steps(graph: Any, keys: list[dg.AssetKey]) -> int:
    """How many steps one run of `keys` takes (one per op, i.e. per assets definition)."""
    return len({graph.get(k).assets_def for k in keys})


def _job_name(key: dg.AssetKey) -> str:
    return "ingest__" + "__".join(key.path)


def _jobs(
    defs: dg.Definitions,
    partitioned: list[dg.AssetKey],
    rest: list[dg.AssetKey],
    listener: StepListener,
    log_handler: logging.Handler | None,
) -> dg.Definitions:
    """The deployed assets with the jobs this run executes: one per bronze asset, one downstream."""
    jobs = [
        dg.define_asset_job(_job_name(k), selection=dg.AssetSelection.assets(k))
        for k in partitioned
    ]
    if rest:
        jobs.append(dg.define_asset_job(DOWNSTREAM_JOB, selection=dg.AssetSelection.assets(*rest)))
    return dg.Definitions(
        assets=list(defs.assets or []),
        resources=defs.resources,
        jobs=jobs,
        loggers={"lakehouse": _logger_definition(listener, log_handler)},
    )


def _execute(
    jobs: dg.Definitions,
    name: str,
    instance: dg.DagsterInstance,
    run_config: dict[str, object],
    partition_key: str | None = None,
) -> dg.ExecuteInProcessResult:
    job = jobs.resolve_job_def(name)
    nodes = {node.name for node in job.graph.nodes}
    ops = {op: c for op, c in dict(run_config.get("ops") or {}).items() if op in nodes}  # type: ignore[call-overload]
    return job.execute_in_process(
        run_config={**run_config, "ops": ops, "loggers": {"lakehouse": {}}},
        instance=instance,
        partition_key=partition_key,
        raise_on_error=False,
        tags={RUN_TAG: RUN_TAG_VALUE, "lakehouse/pid": str(os.getpid())},
    )


def _logger_definition(
    listener: StepListener, log_handler: logging.Handler | None
) -> dg.LoggerDefinition:
    """A Dagster logger that feeds the progress view and writes every line to the log file."""

    class Steps(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            meta = getattr(record, "dagster_meta", None) or {}
            event = meta.get("dagster_event")
            if event is None or not event.step_key:
                return
            kind = event.event_type_value
            if kind == "STEP_START":
                listener.started(event.step_key)
            elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
                listener.finished(event.step_key, kind.removeprefix("STEP_").lower())

    def build(_: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("lakehouse.dagster", level=logging.DEBUG)
        logger.addHandler(Steps())
        if log_handler is not None:
            logger.addHandler(log_handler)
        return logger

    return dg.LoggerDefinition(build, description="Progress view and log file of `lakehouse run`.")


def _collect(report: RunReport, result: dg.ExecuteInProcessResult, instance: Any) -> None:
    report.run_ids.append(result.run_id)
    report.success = report.success and result.success
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION" and event.asset_key:
            name = event.asset_key.to_user_string()
            report.materialized.append(name)
            if event.step_key:
                report.step_assets.setdefault(event.step_key, []).append(name)
        elif event.event_type_value == "STEP_FAILURE" and event.step_key:
            error = event.step_failure_data.error if event.step_failure_data else None
            report.failures[event.step_key] = last_line(error.message if error else "failed")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation is not None and not evaluation.passed:
                report.checks_failed.append(
                    f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                )
    for step, seconds in step_seconds(instance, result.run_id).items():
        report.step_seconds[step] = round(report.step_seconds.get(step, 0.0) + seconds, 3)


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the `lakehouse run`s left in progress by a process that no longer exists.

    Called while holding the run lock, which every `lakehouse run` holds while it runs: a run
    still marked in progress then belongs to a killed process, and the concurrency-pool slots it
    claimed are freed so queued steps do not wait for it for ever.
    """
    stale = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
            tags={RUN_TAG: RUN_TAG_VALUE},
        )
    )
    failed = []
    for run in stale:
        instance.report_run_failed(run, "the process running it ended before it finished")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run.run_id)
    return failed


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


def last_line(text: str) -> str:
    """The last non-empty line of an error message (where Python puts the exception itself)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else text
