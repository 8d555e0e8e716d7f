"""`lakehouse sql`: read-only SQL over bronze, silver and gold, within the user's clearance, audited."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated

import polars as pl
import typer

from orchestration.cli.app import app
from orchestration.cli.output import console, fail, print_frame
from transforms.config import get_environment

FORMATS = ("table", "csv", "json")


@app.command("sql")
def sql_command(
    query: Annotated[
        str,
        typer.Argument(help="One SELECT over <layer>.<table>, e.g. 'select * from gold.entities'."),
    ],
    user: Annotated[str, typer.Option("--user", help="Who queries (catalogue/users.yml).")],
    purpose: Annotated[str, typer.Option("--purpose", help="Why the query is necessary.")],
    task: Annotated[
        str | None, typer.Option("--task", help="The open task it serves (lakehouse task list).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="A Delta version (integer) or an ISO timestamp to read at."),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="table, csv or json (csv and json: summary on stderr).")
    ] = "table",
) -> None:
    """Read-only SQL over bronze.*, silver.* and gold.*; every query, allowed or refused, is audited."""
    from transforms.governance.audit import audit
    from transforms.governance.sql import audited_query

    env = get_environment()
    if output_format not in FORMATS:
        reason = f"--format must be table, csv or json, not {output_format!r}"
        audit(
            env,
            user=user,
            purpose=purpose,
            action="sql",
            sql=query,
            tables=[],
            rows=0,
            seconds=0.0,
            outcome="refused",
            reason=reason,
            task=task,
        )
        fail(reason)
    try:
        result = audited_query(env, query, user=user, purpose=purpose, as_of=as_of, task=task)
    except Exception as exc:  # refused or failed, and already audited: one line on stderr
        fail(str(exc) or type(exc).__name__)
    frame = result.frame
    summary = (
        f"{frame.height} rows from {', '.join(result.tables) or 'no table'} "
        f"in {result.seconds:.2f}s (audited)"
    )
    if output_format == "json":
        print(json.dumps(frame.to_dicts(), indent=2, default=_json_value))
        print(summary, file=sys.stderr)
    elif output_format == "csv":
        print(_flat(frame).write_csv(), end="")
        print(summary, file=sys.stderr)
    else:
        print_frame(frame, title=result.tables[0] if len(result.tables) == 1 else None)
        console.print(summary)


def _json_value(value: object) -> object:
    """JSON for what `json` cannot encode itself: dates and times as ISO, decimals, bytes."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV cannot hold lists or structs: write those cells as JSON text."""
    nested = [c for c, t in frame.schema.items() if t.is_nested() or t == pl.Binary]
    return frame.with_columns(
        pl.Series(
            column,
            [
                None if v is None else json.dumps(v, default=_json_value)
                for v in frame[column].to_list()
            ],
            dtype=pl.String,
        )
        for column in nested
    )
