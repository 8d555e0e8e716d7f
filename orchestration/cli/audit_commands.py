"""`lakehouse audit-verify`: is the `ops.audit_log` hash chain intact, and if not, where it breaks."""

from __future__ import annotations

import typer

from orchestration.cli.app import app
from orchestration.cli.output import fail
from transforms.config import get_environment


@app.command("audit-verify")
def audit_verify() -> None:
    """Recompute the audit log's hash chain: one line, and a non-zero exit where it breaks."""
    from transforms.governance.audit_chain import verify_audit_log

    report = verify_audit_log(get_environment())
    if report.ok:
        typer.echo(report.verdict)
        return
    for found in report.breaks:
        typer.echo(f"seq {found.seq}: {found.describe()}")
    fail(report.verdict)
