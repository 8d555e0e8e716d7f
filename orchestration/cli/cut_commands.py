"""`lakehouse cut PARTNER`: a partner's cut now, exactly as its schedule would make it."""

from __future__ import annotations

import sys
import uuid
from typing import Annotated

import polars as pl
import typer

from orchestration.cli.app import app
from orchestration.cli.output import console, fail, print_frame
from transforms.catalogue import CatalogueError
from transforms.config import get_environment


@app.command("cut")
def cut_command(
    partner: Annotated[
        str, typer.Argument(help="A partner of catalogue/partners/, e.g. rocu_north.")
    ],
    task: Annotated[
        str | None,
        typer.Option(
            "--task",
            help="Only the entities matched by searches recorded under this task "
            "(the partner file's own task, when it names one).",
        ),
    ] = None,
) -> None:
    """Produce that partner's cut now: Parquet, injection-safe CSV and manifest, recorded in ops.disclosures."""
    from transforms.governance.cuts import CutRefused, make_cut
    from transforms.governance.partners import load_partners

    env = get_environment()
    try:
        partners = load_partners(env.catalogue_dir)
    except CatalogueError as exc:
        fail(str(exc))
    if partner not in partners:
        known = ", ".join(sorted(partners)) or "none"
        fail(f"unknown partner {partner!r}; known partners: {known}")
    try:
        cut = make_cut(env, partners[partner], uuid.uuid4().hex, task=task)
    except (CutRefused, CatalogueError) as exc:
        fail(str(exc))
    print_frame(
        pl.DataFrame(
            [
                {
                    "table": t.table,
                    "delta_version": t.delta_version,
                    "rows": t.rows,
                    "withheld_above_clearance": t.withheld_above_clearance,
                    "withheld_above_max_classification": t.withheld_above_max_classification,
                    "classification": t.classification or "",
                }
                for t in cut.tables
            ]
        ),
        title=f"cut {cut.run_id} for {cut.partner} ({cut.classification})"
        + (f", task {cut.task}" if cut.task else ""),
    )
    if cut.note is not None:
        print(f"lakehouse: note: {cut.note}", file=sys.stderr)
    console.print(
        f"{cut.rows:,} rows in {len(cut.tables)} tables, {cut.withheld:,} withheld by "
        f"classification; recorded in ops.disclosures",
        soft_wrap=True,
    )
    console.print(f"folder: {cut.folder}", soft_wrap=True)
    console.print(f"manifest: {cut.manifest_path} (sha256 {cut.manifest_sha256})", soft_wrap=True)
