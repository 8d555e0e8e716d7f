"""What a person sees while the graph runs: a progress view, with every log line in a file.

Dagster's event lines, dbt's per-model lines and third-party warnings go to a log file named in
the summary; `--verbose` shows them live instead. Everything printed below the Python level
(dbt's child process, native libraries) is redirected too, at the file-descriptor level.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from orchestration.runner import StepListener
from transforms.config import Environment

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def log_path(env: Environment, prefix: str = "run") -> Path:
    """A new log file under the lakehouse's local folder: `logs/<prefix>-<UTC time>.log`."""
    folder = env.scratch / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{prefix}-{datetime.now(UTC):%Y%m%d-%H%M%S}-{os.getpid()}.log"


class ProgressView(StepListener):
    """Steps done of total, the running step, elapsed time; failures printed as they happen."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("steps"),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = self.progress.add_task("starting", total=None)

    def planned(self, steps: int) -> None:
        self.progress.update(self.task, total=steps, description="running")

    def started(self, step: str) -> None:
        self.progress.update(self.task, description=f"running [bold]{step}[/bold]")

    def finished(self, step: str, status: str) -> None:
        self.progress.advance(self.task)
        if status == "failure":
            self.console.print(f"[red]failed:[/red] {step}")
        elif status == "skipped":
            self.console.print(f"[yellow]skipped:[/yellow] {step}")

    def __enter__(self) -> ProgressView:
        self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.progress.update(self.task, description="done")
        self.progress.stop()


@contextmanager
def output_to_log(path: Path) -> Iterator[TextIO]:
    """Send everything printed (Python and child processes) to `path`; yield the terminal stream.

    The stream yielded is where the progress view and the summary go: the terminal when stdout
    is one (through a duplicate of its descriptor), else the caller's stdout as it was.
    """
    log = path.open("a", buffering=1)
    original = sys.stdout
    fd_backed = original is sys.__stdout__ and _has_fileno(original)
    saved: list[int] = []
    terminal: TextIO = original
    try:
        if fd_backed:
            sys.stdout.flush()
            sys.stderr.flush()
            saved = [os.dup(1), os.dup(2)]
            terminal = os.fdopen(os.dup(1), "w", buffering=1)
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
        with redirect_stdout(log), redirect_stderr(log), warnings.catch_warnings():
            warnings.simplefilter("default")
            yield terminal
    finally:
        if saved:
            sys.stdout.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            terminal.close()
        log.close()


def _has_fileno(stream: TextIO) -> bool:
    try:
        stream.fileno()
    except (OSError, ValueError, AttributeError):
        return False
    return True


def file_handler(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    return handler


def terminal_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    return handler
