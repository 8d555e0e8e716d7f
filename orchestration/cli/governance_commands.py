"""`lakehouse destroy`: deletion with physical purge and a certificate."""

from __future__ import annotations

from typing import Annotated

import typer

from orchestration.cli.app import app
from orchestration.cli.output import console, fail
from transforms.config import get_environment


@app.command()
def destroy(
    dataset: Annotated[str, typer.Option(help="Catalogue dataset.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the certificate).")],
    user: Annotated[str, typer.Option(help="Who orders the destruction.")],
    record_key: Annotated[
        list[str] | None,
        typer.Option(
            "--record-key", help="Only these records (repeatable); default: the whole dataset."
        ),
    ] = None,
) -> None:
    """Delete a dataset or records everywhere and purge them physically, with a destruction record."""
    from transforms.governance.destruction import destroy as run_destroy

    try:
        certificate = run_destroy(
            get_environment(), dataset, reason=reason, user=user, record_keys=record_key or None
        )
    except ValueError as exc:
        fail(str(exc))
    log = certificate.log
    console.print(
        f"destruction {certificate.destruction_id}: {certificate.dataset} ({certificate.scope}); "
        f"{sum(log.rows.values())} rows across {len(log.rows)} tables and files, "
        f"{len(log.removed_files)} files removed or rewritten; certificate in ops.destructions"
    )


@app.command()
def reclassify(
    asset: Annotated[str, typer.Argument(help="Asset key, e.g. silver/person_records.")],
    to: Annotated[str, typer.Option("--to", help="OFFICIAL, SECRET or TOP_SECRET.")],
    user: Annotated[str, typer.Option(help="Who decides (recorded).")],
    reason: Annotated[str, typer.Option(help="Why (recorded).")],
) -> None:
    """Change an asset's classification explicitly (the only way to lower one), recorded in ops.reclassifications."""
    from orchestration.classification import asset_classifications
    from orchestration.runner import load_definitions
    from transforms.governance.classification import reclassifications
    from transforms.governance.classification import reclassify as record

    env = get_environment()
    levels = asset_classifications(load_definitions(), reclassifications(env))
    if asset not in levels:
        fail(f"unknown asset {asset!r}")
    try:
        record(env, asset, to, user=user, reason=reason, current=levels[asset])
    except ValueError as exc:
        fail(str(exc))
    console.print(f"{asset}: {levels[asset]} -> {to}, recorded in ops.reclassifications by {user}")
