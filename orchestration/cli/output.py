"""Printing helpers shared by the commands: tables on stdout, one-line reasons on stderr."""

from __future__ import annotations

import sys
from typing import NoReturn

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

console = Console(width=None if sys.stdout.isatty() else 160)


def fail(reason: str, code: int = 1) -> NoReturn:
    """Exit non-zero with a one-line reason on stderr (the contract of every command)."""
    print(f"lakehouse: {' '.join(reason.split())}", file=sys.stderr)
    raise typer.Exit(code)


def print_frame(frame: pl.DataFrame, title: str | None = None) -> None:
    """Render a DataFrame as a table."""
    table = Table(title=title, show_lines=False)
    for column in frame.columns:
        table.add_column(column, justify="right" if frame[column].dtype.is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
