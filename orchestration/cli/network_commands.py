"""`lakehouse network` and `lakehouse path`: linked entities within the user's clearance, audited.

A thin shell over `transforms.resolve.network`; CSV and JSON use the `sql` command's encoders.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import polars as pl
import typer

from orchestration.cli.app import app
from orchestration.cli.output import console, fail, print_frame
from orchestration.cli.sql_commands import _flat, _json_value
from transforms.config import get_environment
from transforms.governance.access import governed
from transforms.governance.audit import audit
from transforms.resolve.network import (
    DEFAULT_MAX_HOPS,
    NETWORK_TABLES,
    Paths,
    neighbourhood,
    network_request,
    path_request,
    read_gold,
    shortest_paths,
    to_graphml,
)

FORMATS = ("table", "csv", "json", "graphml")
_FORMAT_HELP = "table, csv, json or graphml (all but table: summary on stderr)."

User = Annotated[str, typer.Option("--user", help="Who asks (catalogue/users.yml).")]
Purpose = Annotated[str, typer.Option("--purpose", help="Why the question is necessary.")]
TaskRef = Annotated[
    str | None, typer.Option("--task", help="The open task this serves (lakehouse task list).")
]
Format = Annotated[str, typer.Option("--format", help=_FORMAT_HELP)]


@app.command("network")
def network_command(
    entity: Annotated[str, typer.Argument(help="The entity_id to start from (gold.entities).")],
    user: User,
    purpose: Purpose,
    task: TaskRef = None,
    hops: Annotated[
        int, typer.Option("--hops", help="How many links away to look (1 or more).")
    ] = 1,
    output_format: Format = "table",
) -> None:
    """Entities linked to ENTITY within N hops of gold.entity_links, with every link's evidence."""
    env = get_environment()
    _check_format(output_format, "network", network_request(entity, hops), user, purpose, task)
    try:
        nodes, edges = governed(
            env,
            user=user,
            purpose=purpose,
            task=task,
            action="network",
            detail=network_request(entity, hops),
            tables=list(NETWORK_TABLES),
            call=lambda person: neighbourhood(
                *read_gold(env), entity, hops, person.clearance, user=user
            ),
            rows=lambda found: found[0].height + found[1].height,
        )
    except (ValueError, LookupError) as exc:  # refused, not visible, no gold yet: audited
        fail(str(exc))
    within = f"within {hops} hop{'s' if hops != 1 else ''} of {entity}"
    summary = f"{nodes.height - 1} entities and {edges.height} links {within} (audited)"
    if output_format == "table":
        print_frame(nodes, title=f"entities {within}")
        print_frame(edges, title="links")
        console.print(summary)
        return
    _emit(output_format, nodes, edges, summary)


@app.command("path")
def path_command(
    source: Annotated[str, typer.Argument(help="The entity_id to start from.")],
    target: Annotated[str, typer.Argument(help="The entity_id to reach.")],
    user: User,
    purpose: Purpose,
    task: TaskRef = None,
    max_hops: Annotated[
        int, typer.Option("--max-hops", help="Look no further than this many links.")
    ] = DEFAULT_MAX_HOPS,
    output_format: Format = "table",
) -> None:
    """The shortest chains of links between two entities: all are counted, the first few listed."""
    env = get_environment()
    _check_format(
        output_format, "path", path_request(source, target, max_hops), user, purpose, task
    )
    try:
        paths = governed(
            env,
            user=user,
            purpose=purpose,
            task=task,
            action="path",
            detail=path_request(source, target, max_hops),
            tables=list(NETWORK_TABLES),
            call=lambda person: shortest_paths(
                *read_gold(env), source, target, person.clearance, max_hops=max_hops, user=user
            ),
            rows=lambda found: found.edges.height,
        )
    except (ValueError, LookupError) as exc:
        fail(str(exc))
    summary = _path_summary(paths, max_hops, user)
    if output_format == "table":
        if paths.listed:
            print_frame(paths.edges, title=f"shortest paths from {source} to {target}")
        console.print(summary)
        return
    _emit(output_format, paths.nodes, paths.edges, summary, graph_edges=paths.union_edges())


def _path_summary(paths: Paths, max_hops: int, user: str) -> str:
    if paths.hops is None:
        return (
            f"no chain of links within {max_hops} hops between {paths.source} and "
            f"{paths.target} visible to {user} (audited)"
        )
    shown = (
        f"capped: {paths.listed} of {paths.found} shortest paths listed"
        if paths.capped
        else f"{paths.found} shortest path{'s' if paths.found != 1 else ''}"
    )
    return f"{shown}, {paths.hops} hops from {paths.source} to {paths.target} (audited)"


def _check_format(
    output_format: str, action: str, request: str, user: str, purpose: str, task: str | None
) -> None:
    """An unknown format is refused, and the refusal audited, before anything is read."""
    if output_format in FORMATS:
        return
    reason = f"--format must be table, csv, json or graphml, not {output_format!r}"
    audit(
        get_environment(),
        user=user,
        purpose=purpose,
        action=action,
        sql=request,
        tables=list(NETWORK_TABLES),
        rows=0,
        seconds=0.0,
        outcome="refused",
        reason=reason,
        task=task,
    )
    fail(reason)


def _emit(
    output_format: str,
    nodes: pl.DataFrame,
    edges: pl.DataFrame,
    summary: str,
    graph_edges: pl.DataFrame | None = None,
) -> None:
    """csv: one file, a `record` column saying `node` or `edge`; json: {"nodes", "edges"}."""
    if output_format == "graphml":
        print(to_graphml(nodes, edges if graph_edges is None else graph_edges), end="")
    elif output_format == "json":
        document = {"nodes": nodes.to_dicts(), "edges": edges.to_dicts()}
        print(json.dumps(document, indent=2, default=_json_value))
    else:
        both = pl.concat(
            [
                _flat(nodes).with_columns(pl.lit("node").alias("record")),
                _flat(edges).with_columns(pl.lit("edge").alias("record")),
            ],
            how="diagonal_relaxed",
        )
        print(both.select("record", pl.exclude("record")).write_csv(), end="")
    print(summary, file=sys.stderr)
