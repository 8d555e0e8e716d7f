"""The `lakehouse` commands. Each is a thin shell over `transforms/` or the Dagster runner."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import polars as pl
import typer
from rich.console import Console

from orchestration.cli.output import console, fail, print_frame
from transforms.catalogue import CatalogueError, load_catalogue
from transforms.config import (
    PROJECT_ROOT,
    Environment,
    disable_telemetry,
    get_environment,
    prepare_dagster_home,
)
from transforms.delta_io import TableNotFound, history, read_table

if TYPE_CHECKING:
    from orchestration.runner import RunReport

disable_telemetry()
# Splink's sqlglot warns on import that its Rust tokenizer is deprecated: a packaging note for
# us (requirements.lock), not something a user of the command line can act on.
warnings.filterwarnings("ignore", message=r"sqlglot\[rs\] is deprecated")
app = typer.Typer(
    help="ndec-lakehouse: governed bulk-data lakehouse (SCHEMA.md §5).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

People = Annotated[int, typer.Option(help="Size of the synthetic population.", min=1)]
Seed = Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")]


@app.command()
def generate(
    people: People = 10_000,
    seed: Seed = 42,
    deliveries: Annotated[int, typer.Option(help="Dated deliveries per dataset.", min=1)] = 1,
    start: Annotated[str, typer.Option(help="Date of the first delivery (ISO).")] = "2026-10-05",
    overwrite: Annotated[bool, typer.Option(help="Replace existing delivery folders.")] = False,
    noise: Annotated[
        str,
        typer.Option(
            help="Error model: 'default' (each dataset's own noise) or 'hostile' (plus replaced "
            "values, wrong dates of birth, missing fields, swapped names, OCR errors, "
            "name-and-town-only records)."
        ),
    ] = "default",
) -> None:
    """Write a synthetic delivery of every catalogue dataset into landing/, truth into truth/.

    Catalogued datasets without a generator (real ones) are skipped and named.
    """
    from transforms.generate import generate_catalogue

    env = get_environment()
    try:
        report = generate_catalogue(
            env.catalogue_dir,
            env.landing,
            env.truth,
            people=people,
            seed=seed,
            deliveries=deliveries,
            start=date.fromisoformat(start),
            overwrite=overwrite,
            noise=noise,
        )
    except (FileExistsError, CatalogueError, ValueError) as exc:
        fail(str(exc))
    console.print(
        f"generated {report.total_records:,} records for {report.people:,} people "
        f"in {report.seconds:.2f}s ({report.records_per_second:,.0f} records/s) into {env.landing}"
    )
    if report.noise != "default":
        console.print(f"noise profile: {report.noise}")
    for name in report.skipped:
        console.print(f"skipped (no generator): {name}")


@app.command()
def run(
    select: Annotated[
        str | None,
        typer.Option("--select", help="Dagster asset selection, e.g. 'group:bronze_bulk_comms'."),
    ] = None,
    report_file: Annotated[
        Path | None,
        typer.Option("--report", help="Write what ran, failed and each step's seconds as JSON."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Show Dagster's and dbt's logs live (else: a file).")
    ] = False,
    no_wait: Annotated[
        bool,
        typer.Option(
            "--no-wait", help="Stop at once if another lakehouse run holds the lakehouse."
        ),
    ] = False,
) -> None:
    """Materialise assets in-process: the whole graph by default, with a progress view."""
    _run(select, report_file, verbose=verbose, wait=not no_wait)


REBUILD_SILVER = "group:dbt_staging or group:dbt_intermediate or group:dbt_silver or group:silver"
"""The dbt models and the silver publication: what `rebuild-silver` runs from scratch."""


@app.command("rebuild-silver")
def rebuild_silver(
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Show Dagster's and dbt's logs live (else: a file).")
    ] = False,
) -> None:
    """Normalise every bronze row again and replace silver whole (after a rule changes).

    Routine runs are incremental: they normalise only the deliveries silver does not hold yet.
    This gives the same tables from scratch, audited whole, one new Delta version per table.
    """
    config = {"config": {"full_refresh": True}}
    _run(
        REBUILD_SILVER,
        verbose=verbose,
        run_config={"ops": {"dbt_silver": config, "publish_silver": config}},
    )


def _run(
    select: str | None,
    report_file: Path | None = None,
    *,
    verbose: bool = False,
    wait: bool = True,
    run_config: dict[str, object] | None = None,
) -> RunReport:
    from orchestration.cli.progress import (
        ProgressView,
        file_handler,
        log_path,
        output_to_log,
        terminal_handler,
    )
    from orchestration.runner import run_assets
    from transforms.locks import LockBusy

    env = get_environment()
    started = time.perf_counter()
    log_file = log_path(env)

    def waiting(out: Console) -> Callable[[str], None]:
        return lambda holder: out.print(f"waiting: the lakehouse is held by {holder}")

    try:
        if verbose:
            report = run_assets(
                env,
                select,
                log_handler=terminal_handler(),
                wait=wait,
                on_wait=waiting(console),
                run_config=run_config,
            )
        else:
            with output_to_log(log_file) as terminal:
                view = Console(file=terminal, width=console.width)
                with ProgressView(view) as progress:
                    report = run_assets(
                        env,
                        select,
                        listener=progress,
                        log_handler=file_handler(log_file),
                        wait=wait,
                        on_wait=waiting(view),
                        run_config=run_config,
                    )
            report.log_file = str(log_file)
    except LockBusy as exc:
        fail(f"{exc}; not started (--no-wait)")
    except (CatalogueError, ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    seconds = time.perf_counter() - started
    if not report.run_ids:
        console.print("nothing to run: no pending delivery in what was selected")
    else:
        console.print(
            f"run {report.run_id}: {len(report.materialized)} assets materialised in "
            f"{len(report.run_ids)} Dagster run(s), {seconds:.1f}s"
        )
    if report_file is not None:
        report_file.write_text(json.dumps(dataclasses.asdict(report), indent=2) + "\n")
    for check in report.checks_failed:
        console.print(f"[yellow]check failed:[/yellow] {check}")
    for check in report.blocked:
        console.print(f"[red]blocked:[/red] {check} failed, so nothing downstream ran")
    if report.log_file:
        console.print(f"log: {report.log_file}")
    if not report.success:
        for step, reason in report.failures.items():
            console.print(f"[red]failed:[/red] {step}: {reason}")
        fail(f"{len(report.failures)} step(s) failed: " + "; ".join(report.failures.values()))
    return report


@app.command("history")
def history_command(
    table: Annotated[str, typer.Argument(help="<layer>.<table>, e.g. bronze.electoral_roll")],
) -> None:
    """The versions of a table: version, time, operation, delivery or run, rows."""
    env = get_environment()
    try:
        entries = history(env.table_path(table))
    except (TableNotFound, ValueError) as exc:
        fail(str(exc))
    frame = pl.DataFrame(
        [
            {
                "version": e["version"],
                "time": e["timestamp"].isoformat(timespec="seconds"),
                "operation": e["operation"],
                "delivery_or_run": e["delivery_id"] or e["run_id"] or "",
                "rows": e["rows"],
            }
            for e in entries
        ]
    )
    print_frame(frame, title=table)


@app.command()
def demo(people: People = 10_000, seed: Seed = 42) -> None:
    """Generate the demo catalogue (once), run the whole graph and print the summary."""
    env = get_environment()
    if any(env.landing.glob("*/*")):
        console.print(f"landing already holds deliveries in {env.landing}: re-using them")
    else:
        generate(people=people, seed=seed, deliveries=1, start="2026-10-05", overwrite=False)
    failure: typer.Exit | None = None
    try:
        _run(None)
    except typer.Exit as exc:
        failure = exc
    from transforms.summary import bronze_summary, layer_summary

    print_frame(bronze_summary(env, load_catalogue(env.catalogue_dir)), title="bronze")
    print_frame(layer_summary(env, "silver"), title="silver")
    print_frame(layer_summary(env, "gold"), title="gold")
    _print_accuracy(env)
    _open_demo_task(env)
    console.print(
        "Open the Dagster UI with [bold]make ui[/bold] (http://127.0.0.1:3000); "
        "list versions with [bold].venv/bin/lakehouse history bronze.electoral_roll[/bold]; "
        f"query under the demo task: [bold].venv/bin/lakehouse sql 'select * from gold.entities "
        f"limit 5' --user analyst --purpose demo --task {DEMO_TASK}[/bold]."
    )
    if failure is not None:
        raise failure


DEMO_TASK = "OP-DEMO"


def _open_demo_task(env: Environment) -> None:
    """The demo's reads need an open task: one covering every dataset, opened once (audited)."""
    from transforms.governance.access import governed
    from transforms.governance.tasks import TASKS_TABLE, find_task, open_task

    if find_task(env, DEMO_TASK) is not None:
        return
    governed(
        env,
        user="platform",
        purpose="open the demonstration task",
        action="task-open",
        detail=f"task open {DEMO_TASK}",
        tables=[TASKS_TABLE],
        tasked=False,
        call=lambda _: open_task(
            env,
            DEMO_TASK,
            title="Demonstration on synthetic data",
            datasets=sorted(load_catalogue(env.catalogue_dir)),
            approved_by="demo approving officer",
            purpose="demonstrate governed reads on the synthetic catalogue",
            user="platform",
        ),
    )


def _print_accuracy(env: Environment) -> None:
    from transforms.evaluate.reports import current_normalisation_report, has_truth

    if not has_truth(env):
        return
    try:
        report = current_normalisation_report(env)
    except TableNotFound:
        return
    worst = report.sort("share").head(3).select("dataset", "field", "share")
    try:
        from transforms.evaluate.entities import er_evaluation

        er = er_evaluation(env.truth, read_table(env, "gold.entity_records"))
        console.print(
            f"entity resolution vs truth: pairwise precision {er['pairwise_precision']:.4f}, "
            f"recall {er['pairwise_recall']:.4f}, F1 {er['pairwise_f1']:.4f}; "
            f"{er['entities']:,} entities for {er['true_persons']:,} true persons"
        )
    except TableNotFound:
        pass
    console.print(
        f"normalisation vs truth: {report['matched'].sum():,}/{report['eligible'].sum():,} field values "
        f"recovered; lowest shares: "
        + ", ".join(f"{d}.{f} {s:.2%}" for d, f, s in worst.iter_rows())
    )


@app.command()
def ui(port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 3000) -> None:
    """Start the Dagster UI and daemon on 127.0.0.1 with workspace.yaml (stop it with Ctrl-C)."""
    from orchestration.dbt_project import prepare_dbt_project

    env = get_environment()
    prepare_dagster_home(env)
    bin_dir = os.path.dirname(sys.executable)
    os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])  # dbt for runs
    console.print("preparing the dbt manifest for the catalogue")
    prepare_dbt_project(env)
    os.chdir(PROJECT_ROOT)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    dagster = os.path.join(bin_dir, "dagster")
    os.execv(dagster, [dagster, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)])


@app.command()
def evaluate(
    labels: Annotated[
        bool,
        typer.Option(
            "--labels", help="Only the estimate from the stewards' decisions, even with truth."
        ),
    ] = False,
) -> None:
    """Accuracy as JSON: against the synthetic ground truth (normalisation, entity resolution)
    where it exists, and from the stewards' decisions (`labels`) whenever any is recorded."""
    from transforms.evaluate.entities import er_evaluation
    from transforms.evaluate.labels import labels_or_reason
    from transforms.evaluate.reports import current_normalisation_report, has_truth

    env = get_environment()
    result: dict[str, object] = {}
    unavailable: dict[str, str] = {}
    if not labels:
        if has_truth(env):
            try:
                report = current_normalisation_report(env)
            except TableNotFound as exc:
                fail(str(exc))
            result["normalisation"] = {
                "goal": 0.99,
                "meets_goal": bool(report["meets_goal"].all()),
                "fields": report.to_dicts(),
            }
            try:
                result["entity_resolution"] = er_evaluation(
                    env.truth, read_table(env, "gold.entity_records")
                )
            except TableNotFound:
                result["entity_resolution"] = None
        else:
            result["normalisation"] = result["entity_resolution"] = None
            unavailable["normalisation"] = unavailable["entity_resolution"] = (
                f"no ground truth under {env.truth} (a real catalogue)"
            )
    result["labels"], why_not_labels = labels_or_reason(env)
    if why_not_labels:
        unavailable["labels"] = why_not_labels
    if unavailable:
        result["unavailable"] = unavailable
    print(json.dumps(result, indent=2, default=str))
