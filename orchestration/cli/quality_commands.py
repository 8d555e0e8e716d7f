"""`lakehouse quality`: what a data steward needs to act on, in one screen."""

from __future__ import annotations

from typing import Annotated

import polars as pl
import typer

from orchestration.cli.app import app
from orchestration.cli.output import console, print_frame
from transforms.config import Environment, get_environment

GENERIC_SHOWN = 20  # generic values listed, most records first


@app.command()
def quality(
    rows: Annotated[
        str | None,
        typer.Option(help="Show the quarantined rows of this table (e.g. silver.person_records)."),
    ] = None,
) -> None:
    """Failing checks of the latest run, rejected deliveries and quarantined rows, with how to inspect each."""
    from transforms.quality.deliveries import outstanding_rejections
    from transforms.quality.results import latest_results, quarantined

    env = get_environment()
    held = quarantined(env)
    if rows is not None:
        print_frame(
            held.filter(pl.col("table") == rows).drop("run_id"), title=f"quarantined rows of {rows}"
        )
        return
    results = latest_results(env)
    failing = results.filter(~pl.col("passed"))
    console.print(
        f"{results.height} checks (latest result of each), {failing.height} failing; "
        f"latest run {results.sort('recorded_at')['run_id'][-1] if results.height else '-'}"
    )
    if failing.height:
        print_frame(
            failing.select(
                "asset",
                "check",
                "severity",
                "failing",
                "failing_share",
                pl.col("sample_keys").list.head(3).list.join(", ").alias("sample_keys"),
                "detail",
            ),
            title="failing checks",
        )
    rejected = outstanding_rejections(env)
    if rejected.height:
        print_frame(
            rejected.select("dataset", "delivery_id", "reason"), title="quarantined deliveries"
        )
        for dataset, delivery in rejected.select("dataset", "delivery_id").iter_rows():
            console.print(
                f"  inspect: cat {env.quarantine / dataset / delivery / 'reason.json'}",
                soft_wrap=True,
            )
    if held.height:
        summary = (
            held.group_by("table", "dataset", "check")
            .agg(pl.len().alias("rows"))
            .sort("table", "dataset")
        )
        print_frame(summary, title="quarantined rows")
        for table in summary["table"].unique().sort():
            console.print(f"  inspect: lakehouse quality --rows {table}", soft_wrap=True)
    if not failing.height and not rejected.height and not held.height:
        console.print("clean: no failing checks, no quarantined deliveries or rows")
    _print_generic_values(env)
    _print_decision_conflicts(env)


def _print_decision_conflicts(env: Environment) -> None:
    """Stewards' must-links that standing cannot-links keep from applying: theirs to settle."""
    from transforms.resolve.decisions import load_constraints

    for conflict in load_constraints(env).conflicts:
        console.print(
            f"decision conflict: {conflict.describe()}; withdraw one (lakehouse decide withdraw ID)",
            soft_wrap=True,
        )


def _print_generic_values(env: Environment) -> None:
    """gold.generic_values, most records first: identifiers left out of entity resolution."""
    from transforms.delta_io import read_path

    generic = read_path(env.table_path("gold.generic_values"))
    if generic is None or generic.height == 0:
        return
    shown = generic.sort(["records", "identifier_kind", "value"], descending=[True, False, False])
    print_frame(
        shown.head(GENERIC_SHOWN).select(
            "identifier_kind", "value", "records", "entities", "threshold", "classification"
        ),
        title=f"generic values: {generic.height} identifiers held by more records than their "
        "threshold, left out of entity resolution and links",
    )
    if generic.height > GENERIC_SHOWN:
        console.print(
            f"  {generic.height - GENERIC_SHOWN} more: lakehouse sql "
            "'select * from gold.generic_values order by records desc' --user U --purpose P --task REF",
            soft_wrap=True,
        )
