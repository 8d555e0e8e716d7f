"""`lakehouse task open|close|list`: the tasking register (transforms/governance/tasks.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import polars as pl
import typer

from orchestration.cli.app import app
from orchestration.cli.output import console, fail, print_frame
from transforms.config import get_environment

task_app = typer.Typer(help="The tasking register: every read of personal data serves a task.")
app.add_typer(task_app, name="task")

User = Annotated[str, typer.Option("--user", help="Who records it (catalogue/users.yml).")]


@task_app.command("open")
def open_command(
    ref: Annotated[str, typer.Argument(help="The task reference, e.g. OP-KESTREL-01.")],
    title: Annotated[str, typer.Option(help="What the task is.")],
    datasets: Annotated[str, typer.Option(help="Datasets it may use, comma-separated.")],
    approved_by: Annotated[str, typer.Option("--approved-by", help="The approving officer.")],
    purpose: Annotated[str, typer.Option(help="Why the task needs the data.")],
    user: User,
    team: Annotated[str | None, typer.Option(help="The requesting team.")] = None,
    approved_on: Annotated[
        str | None, typer.Option("--approved-on", help="Date approved (ISO; default today).")
    ] = None,
) -> None:
    """Open a task in the register (append-only, audited)."""
    from transforms.governance.access import governed
    from transforms.governance.tasks import TASKS_TABLE, open_task

    env = get_environment()
    try:
        when = date.fromisoformat(approved_on) if approved_on else None
    except ValueError:
        fail(f"--approved-on must be an ISO date (YYYY-MM-DD), not {approved_on!r}")
    try:
        row = governed(
            env,
            user=user,
            purpose=f"open task {ref}: {purpose}",
            action="task-open",
            detail=f"task open {ref} --datasets {datasets}",
            tables=[TASKS_TABLE],
            tasked=False,
            call=lambda _: open_task(
                env,
                ref,
                title=title,
                datasets=datasets.split(","),
                approved_by=approved_by,
                purpose=purpose,
                user=user,
                requesting_team=team,
                approved_on=when,
            ),
        )
    except (ValueError, LookupError) as exc:
        fail(str(exc))
    console.print(
        f"task {row['task_ref']} open: {', '.join(row['datasets'])} "  # type: ignore[arg-type]
        f"(approved by {approved_by}; audited)"
    )


@task_app.command("close")
def close_command(
    ref: Annotated[str, typer.Argument(help="The task reference.")], user: User
) -> None:
    """Close a task: nothing may be read under it any more (audited)."""
    from transforms.governance.access import governed
    from transforms.governance.tasks import TASKS_TABLE, close_task

    env = get_environment()
    try:
        governed(
            env,
            user=user,
            purpose=f"close task {ref}",
            action="task-close",
            detail=f"task close {ref}",
            tables=[TASKS_TABLE],
            tasked=False,
            call=lambda _: close_task(env, ref, user=user),
        )
    except (ValueError, LookupError) as exc:
        fail(str(exc))
    console.print(f"task {ref} closed (audited)")


@task_app.command("list")
def list_command(
    all_rows: Annotated[bool, typer.Option("--history", help="Every row, not the latest.")] = False,
) -> None:
    """The register: each task's current state (`--history`: every row)."""
    from transforms.governance.tasks import current_tasks, read_register

    register = read_register(get_environment())
    shown = register if all_rows else current_tasks(register)
    print_frame(
        shown.select(
            "task_ref",
            "status",
            "title",
            pl.col("datasets").list.join(", "),
            "approved_by",
            pl.col("approved_on").cast(pl.String),
            pl.col("recorded_at").dt.strftime("%Y-%m-%d %H:%M"),
        ),
        "ops.tasks",
    )
