"""`lakehouse search`: a thin shell over `transforms.governance.search.audited_search`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from orchestration.cli.app import app
from orchestration.cli.output import console, fail, print_frame
from transforms.config import get_environment


@app.command("search")
def search_command(
    subjects: Annotated[
        Path,
        typer.Option(
            "--subjects",
            help="CSV of subjects; columns (any subset, any case): subject_id, name, given_name, "
            "family_name, date_of_birth (YYYY-MM-DD or DD/MM/YYYY), postcode, phone.",
        ),
    ],
    task: Annotated[str, typer.Option("--task", help="The task or case reference searched for.")],
    user: Annotated[str, typer.Option("--user", help="Who searches (catalogue/users.yml).")],
    purpose: Annotated[str, typer.Option("--purpose", help="Why the search is necessary.")],
    output_format: Annotated[
        str, typer.Option("--format", help="table, csv or json (csv and json: summary on stderr).")
    ] = "table",
) -> None:
    """Bulk search a list of subjects against the resolved entities, audited and counted."""
    from transforms.governance.search import audited_search

    env = get_environment()
    if output_format not in ("table", "csv", "json"):
        fail(f"--format must be table, csv or json, not {output_format!r}")
    try:
        outcome = audited_search(env, subjects, task=task, user=user, purpose=purpose)
    except (ValueError, LookupError) as exc:  # refused, unknown user, bad file, no model or table
        fail(str(exc))
    if outcome.warning is not None:
        print(f"lakehouse: warning: {outcome.warning}", file=sys.stderr)
    if output_format == "json":
        print(json.dumps(outcome.visible.to_dicts(), indent=2, default=str))
        print(outcome.summary, file=sys.stderr)
        return
    flat = outcome.visible.with_columns(pl.col("linked_entities").list.join(" "))
    if output_format == "csv":
        print(flat.write_csv(), end="")
        print(outcome.summary, file=sys.stderr)
        return
    print_frame(flat, title=f"search {outcome.task}")
    console.print(outcome.summary)
