"""`lakehouse approve-model` and `lakehouse rebuild-entities`: the explicit entity-resolution acts."""

from __future__ import annotations

from typing import Annotated

import polars as pl
import typer

from orchestration.cli.app import app
from orchestration.cli.output import console, fail, print_frame
from transforms.config import get_environment


@app.command("approve-model")
def approve_model(
    version: Annotated[int, typer.Argument(help="Model version from `lakehouse models`.")],
    user: Annotated[str, typer.Option(help="Who approves (recorded in ops.er_models).")],
) -> None:
    """Approve a trained entity-resolution model: the next resolution scores with it (full rebuild)."""
    from transforms.resolve.registry import approve

    try:
        stored = approve(get_environment(), version, user)
    except LookupError as exc:
        fail(str(exc))
    console.print(
        f"model v{stored.version} approved by {user}; the next resolution re-scores every pair"
    )


@app.command("models")
def models() -> None:
    """Trained and approved entity-resolution models."""
    from transforms.resolve.registry import registry

    book = registry(get_environment())
    print_frame(
        book.select("version", "event", "user", "records", pl.col("recorded_at").cast(pl.String)),
        "ops.er_models",
    )


@app.command("rebuild-entities")
def rebuild_entities() -> None:
    """Re-score every pair with the approved model and re-cluster (ids stay stable by overlap)."""
    from orchestration.runner import run_assets

    report = run_assets(
        get_environment(),
        "key:gold/* or key:ops/entity_id_changes or key:ops/er_evaluations",
        run_config={"ops": {"resolve_entities": {"config": {"full_rebuild": True}}}},
    )
    if not report.success:
        fail("; ".join(report.failures.values()))
    console.print(f"run {report.run_id}: entities rebuilt")
