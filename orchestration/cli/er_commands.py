"""`lakehouse train`, `models [diff N]`, `approve-model`, `rebuild-entities`: the explicit ER acts."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import polars as pl
import typer

from orchestration.cli.app import app
from orchestration.cli.output import console, fail, print_frame
from transforms.catalogue import CatalogueError
from transforms.config import get_environment

if TYPE_CHECKING:
    from transforms.resolve.model_diff import ModelDiff


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
def models(
    action: Annotated[
        str | None, typer.Argument(help="`diff`: what candidate VERSION would change.")
    ] = None,
    version: Annotated[int | None, typer.Argument(help="Model version for `diff`.")] = None,
) -> None:
    """Trained and approved entity-resolution models; `models diff N` compares N with the approved one."""
    from transforms.resolve.registry import registry

    env = get_environment()
    if action is None:
        book = registry(env)
        print_frame(
            book.select(
                "version",
                "event",
                "user",
                "records",
                pl.col("recorded_at").cast(pl.String),
                "reason",
            ),
            "ops.er_models",
        )
        return
    if action != "diff":
        fail(f"unknown action {action!r}: use `lakehouse models` or `lakehouse models diff N`")
    if version is None:
        fail("`lakehouse models diff` needs a model version (see `lakehouse models`)")
    from transforms.resolve.config import load_resolution_config
    from transforms.resolve.model_diff import diff_models

    try:
        diff = diff_models(env, load_resolution_config(env.catalogue_dir), version)
    except (LookupError, CatalogueError) as exc:
        fail(str(exc))
    _print_diff(diff)


def _print_diff(diff: ModelDiff) -> None:
    print_frame(
        diff.as_frame(),
        f"candidate v{diff.candidate_version} against approved v{diff.approved_version} "
        "on current silver",
    )
    if diff.sample.height:
        print_frame(diff.sample, "sample of changed entities (approved id: candidate entities)")


@app.command("train")
def train(
    reason: Annotated[str | None, typer.Option(help="Why (recorded in ops.er_models).")] = None,
) -> None:
    """Train a candidate entity-resolution model now on current silver; show what it would change."""
    from transforms.resolve.config import load_resolution_config
    from transforms.resolve.model_policy import maintain_model
    from transforms.resolve.training import TrainingError

    env = get_environment()
    try:
        outcome = maintain_model(
            env,
            load_resolution_config(env.catalogue_dir),
            f"cli-train-{uuid.uuid4().hex[:12]}",
            reason=reason or "requested by lakehouse train",
        )
    except (TrainingError, CatalogueError, ValueError) as exc:
        fail(str(exc))
    console.print(f"{outcome.note}; {outcome.records:,} silver person records")
    if outcome.diff is not None:
        _print_diff(outcome.diff)


@app.command("rebuild-entities")
def rebuild_entities() -> None:
    """Re-score every pair with the approved model and re-cluster (ids stay stable by overlap)."""
    from orchestration.cli.app import _run

    report = _run(
        "key:gold/* or key:ops/entity_id_changes or key:ops/er_evaluations",
        run_config={"ops": {"resolve_entities": {"config": {"full_rebuild": True}}}},
    )
    console.print(f"run {report.run_id}: entities rebuilt")
