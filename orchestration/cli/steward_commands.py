"""`lakehouse explain`, `why-not`, `how`, `review` and `decide`: the stewards' and analysts' view
of entity resolution. Each is audited (transforms/governance/access.py) and clearance-filtered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from orchestration.cli.app import app
from orchestration.cli.output import console, fail, print_frame
from transforms.config import get_environment

User = Annotated[str, typer.Option("--user", help="Who asks (catalogue/users.yml).")]
Purpose = Annotated[str, typer.Option("--purpose", help="Why it is necessary (audited).")]
TaskRef = Annotated[
    str | None, typer.Option("--task", help="The open task this serves (lakehouse task list).")
]
Reason = Annotated[str, typer.Option("--reason", help="Why the decision is right (audited).")]
STEWARDS = ("steward",)


@app.command("explain")
def explain(
    entity: Annotated[str, typer.Argument(help="An entity_id of gold.entities.")],
    user: User,
    purpose: Purpose,
    task: TaskRef = None,
    html: Annotated[
        Path | None, typer.Option(help="Write the page here (default reports/explain/ENTITY.html).")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Why these records are one entity: its records, the merges in order, every scored pair."""
    from transforms.governance.access import governed
    from transforms.resolve.config import load_resolution_config
    from transforms.resolve.explain import EVIDENCE, RECORDS, explain_entity
    from transforms.resolve.explain_page import explanation_page
    from transforms.storage import make_dirs, write_text_atomic

    env = get_environment()
    threshold = load_resolution_config(env.catalogue_dir).threshold_match_probability
    try:
        result = governed(
            env,
            user=user,
            purpose=purpose,
            task=task,
            action="explain",
            detail=f"explain {entity}",
            tables=[RECORDS, EVIDENCE, "gold.entities", "silver.person_records"],
            call=lambda person: explain_entity(env, entity, person.may_see, threshold),
            rows=lambda found: found.records.height,
        )
    except (ValueError, LookupError) as exc:
        fail(str(exc))
    target = html or Path(str(env.reports)) / "explain" / f"{entity}.html"
    make_dirs(target.parent)
    write_text_atomic(target, explanation_page(result, f"explained for {user}: {purpose}"))
    if output_format == "json":
        print(
            json.dumps(
                {
                    "entity": result.entity,
                    "records": result.records.to_dicts(),
                    "merges": result.merges.to_dicts(),
                    "pairs": result.pairs.to_dicts(),
                    "accepted_whole": result.accepted_whole,
                },
                indent=2,
                default=str,
            )
        )
        return
    console.print(result.summary())
    print_frame(_rounded(result.records), "records")
    print_frame(_rounded(result.merges.drop("record_key_l", "record_key_r")), "merges, in order")
    print_frame(_rounded(result.pairs), "scored pairs (+ agreed, - disagreed)")
    console.print(f"page: {target} (audited)")


@app.command("why-not")
def why_not_command(
    left: Annotated[str, typer.Argument(help="A record_key.")],
    right: Annotated[str, typer.Argument(help="Another record_key.")],
    user: User,
    purpose: Purpose,
    task: TaskRef = None,
) -> None:
    """Why two records are not one entity: a decision, a declared fact, the clustering, the
    score, or blocking that never paired them."""
    from transforms.governance.access import governed
    from transforms.resolve.config import load_resolution_config
    from transforms.resolve.why_not import why_not

    env = get_environment()
    threshold = load_resolution_config(env.catalogue_dir).threshold_match_probability
    try:
        answer = governed(
            env,
            user=user,
            purpose=purpose,
            task=task,
            action="why-not",
            detail=f"why-not {left} {right}",
            tables=["gold.entity_records", "gold.entity_evidence", "ops.er_decisions"],
            call=lambda person: why_not(env, left, right, person.may_see, threshold),
        )
    except (ValueError, LookupError) as exc:
        fail(str(exc))
    console.print(f"{answer.verdict}: {answer.reason}")
    console.print(f"entities: {answer.entity_ids[0]} and {answer.entity_ids[1]}")
    if answer.between.height:
        print_frame(_rounded(answer.between), "scored pairs between the two entities")


@app.command("how")
def how(
    entity: Annotated[str, typer.Argument(help="An entity_id (current or retired).")],
    user: User,
    purpose: Purpose,
    task: TaskRef = None,
) -> None:
    """The entity's history: created, merged, split, records gained and lost, run by run."""
    from transforms.governance.access import governed
    from transforms.resolve.entity_history import entity_history

    env = get_environment()
    try:
        events = governed(
            env,
            user=user,
            purpose=purpose,
            task=task,
            action="how",
            detail=f"how {entity}",
            tables=["ops.entity_id_changes", "gold.entity_records"],
            call=lambda person: entity_history(env, entity, person.may_see),
            rows=lambda frame: frame.height,
        )
    except (ValueError, LookupError) as exc:
        fail(str(exc))
    print_frame(events.with_columns(pl.col("at").dt.strftime("%Y-%m-%d %H:%M:%S")), entity)


@app.command("review")
def review(
    user: User,
    purpose: Purpose,
    task: TaskRef = None,
    limit: Annotated[int, typer.Option(help="How many to list.", min=1)] = 20,
) -> None:
    """The merges and non-merges closest to the decision boundary, most uncertain first."""
    from transforms.governance.access import governed
    from transforms.resolve.config import load_resolution_config
    from transforms.resolve.review import review_queue

    env = get_environment()
    threshold = load_resolution_config(env.catalogue_dir).threshold_match_probability
    try:
        queue = governed(
            env,
            user=user,
            purpose=purpose,
            task=task,
            action="review",
            detail=f"review --limit {limit}",
            tables=["gold.entity_records", "gold.entity_evidence", "ops.er_state"],
            call=lambda person: review_queue(env, threshold, limit, person.may_see),
            rows=lambda frame: frame.height,
        )
    except (ValueError, LookupError) as exc:
        fail(str(exc))
    print_frame(
        _rounded(queue).select(
            "kind", "record_key_l", "record_key_r", "uncertainty", "margin", "match_key"
        ),
        "review queue: decide with `lakehouse decide must-link|cannot-link KEY KEY`",
    )


def _rounded(frame: pl.DataFrame) -> pl.DataFrame:
    """Weights and probabilities to three decimals for the terminal (JSON keeps them whole)."""
    return frame.with_columns(pl.col(pl.Float64).round(3))


DECISION_NAMES = {"must-link": "must_link", "cannot-link": "cannot_link", "split": "split"}


@app.command("decide")
def decide(
    action: Annotated[str, typer.Argument(help="must-link, cannot-link, split or withdraw.")],
    args: Annotated[
        list[str] | None,
        typer.Argument(help="KEY KEY; for split the ENTITY; for withdraw the decision id."),
    ] = None,
    user: User = "",
    reason: Reason = "",
    records: Annotated[
        list[str] | None, typer.Option("--records", help="Records a split takes out.")
    ] = None,
) -> None:
    """Record a steward's decision in ops.er_decisions; every later run honours it."""
    from transforms.governance.access import governed
    from transforms.resolve.decisions import DECISIONS_TABLE, load_constraints, record_decision
    from transforms.resolve.explain import RECORDS, read_rows

    env = get_environment()
    words = list(args or [])
    if action not in (*DECISION_NAMES, "withdraw"):
        fail(f"unknown decision {action!r}: use must-link, cannot-link, split or withdraw")

    def act(person: object) -> dict[str, object]:
        if action == "withdraw":
            if len(words) != 1:
                raise ValueError("decide withdraw names one decision id")
            return record_decision(env, "withdraw", user=user, reason=reason, withdraws=words[0])
        if action == "split":
            if not words:
                raise ValueError(
                    "decide split names the entity: decide split ENTITY --records KEY..."
                )
            entity, keys = (
                words[0],
                [k for v in [*(records or []), *words[1:]] for k in v.split(",")],
            )
            known = read_rows(env, RECORDS, "entity_id", [entity])
        else:
            entity, keys = None, words
            known = read_rows(env, RECORDS, "record_key", keys) if keys else pl.DataFrame()
        hidden = (
            [
                k
                for k, c in known.select("record_key", "classification").iter_rows()
                if not person.may_see(c)  # type: ignore[attr-defined]
            ]
            if known.height
            else []
        )
        if hidden:
            raise LookupError(f"no record {hidden[0]} visible")
        return record_decision(
            env,
            DECISION_NAMES[action],  # type: ignore[arg-type]
            user=user,
            reason=reason,
            record_keys=keys,
            entity_id=entity,
            known_records=known,
        )

    try:
        row = governed(
            env,
            user=user,
            purpose=reason,
            action="decide",
            detail=" ".join(["decide", action, *words, *(f"--records {r}" for r in records or [])]),
            tables=[DECISIONS_TABLE],
            call=act,
            roles=STEWARDS,
            tasked=False,  # a steward's act, not a read for a task
        )
    except (ValueError, LookupError) as exc:
        fail(str(exc))
    console.print(
        f"{row['decision_id']}: {row['decision']} {', '.join(row['record_keys'] or [])} "  # type: ignore[arg-type]
        f"recorded by {user}; the next resolution run honours it (audited)"
    )
    for conflict in load_constraints(env).conflicts:
        console.print(f"[yellow]conflict[/yellow]: {conflict.describe()}")
