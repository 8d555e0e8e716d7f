"""Stewards and analysts on a built lakehouse: explain, why-not, how, review, and decisions that
survive incremental runs, full rebuilds and a new model (issue 19)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.runner import definitions_for, run_assets
from tests.conftest import TEST_TASK, copy_lakehouse
from transforms.config import Environment
from transforms.delta_io import read_table
from transforms.html_pages import remote_references

GOLD = "key:gold/* or key:ops/entity_id_changes"
FULL = {"ops": {"resolve_entities": {"config": {"full_rebuild": True}}}}


READS = {"explain", "why-not", "how", "review", "network", "path"}


def cli(*args: str) -> tuple[int, str]:
    """The command, naming the built lakehouse's open task when it reads personal data."""
    tasked = [*args, "--task", TEST_TASK] if args[0] in READS else list(args)
    result = CliRunner().invoke(app, tasked)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def resolve_again(env: Environment, *, full: bool = False) -> None:
    report = run_assets(
        env,
        GOLD,
        defs=definitions_for(env),
        instance=dg.DagsterInstance.ephemeral(),
        run_config=FULL if full else None,
    )
    assert report.success, report.failures


def entity_of(env: Environment) -> dict[str, str]:
    records = read_table(env, "gold.entity_records")
    return dict(records.select("record_key", "entity_id").iter_rows())


def chain(env: Environment) -> tuple[str, str, str]:
    """Three records of one entity, from three non-duplicate-free datasets, not all pairs
    equally strong: the first and last are the pair with the weakest scored evidence."""
    records = read_table(env, "gold.entity_records")
    sizes = records.group_by("entity_id").agg(
        pl.col("source_dataset").n_unique().alias("datasets"), pl.len().alias("n")
    )
    entity = sizes.filter((pl.col("n") == 3) & (pl.col("datasets") == 3)).sort("entity_id")[
        "entity_id"
    ][0]
    a, b, c = sorted(records.filter(pl.col("entity_id") == entity)["record_key"].to_list())
    return a, b, c


@pytest.fixture()
def lake(built: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Environment:
    return copy_lakehouse(built, tmp_path / "lakehouse", monkeypatch)


def audit_rows(env: Environment, action: str) -> pl.DataFrame:
    return read_table(env, "ops.audit_log").filter(pl.col("action") == action)


def test_explain_shows_records_merges_pairs_and_writes_an_offline_page(
    lake: Environment, tmp_path: Path
) -> None:
    a, _, _ = chain(lake)
    entity = entity_of(lake)[a]
    page = tmp_path / "explain.html"
    code, out = cli(
        "explain", entity, "--user", "analyst", "--purpose", "op X", "--html", str(page)
    )
    assert code == 0, out
    assert "3 records" in out and "merges" in out
    html = page.read_text()
    assert entity in html and a in html
    assert remote_references(html) == []
    assert "+" in html  # match keys name agreeing comparisons
    allowed = audit_rows(lake, "explain")
    assert allowed["outcome"].to_list() == ["allowed"] and allowed["rows"][0] == 3
    # SQL carries the same reasons: every scored pair has its match key in gold.entity_evidence
    evidence = read_table(lake, "gold.entity_evidence")
    assert evidence["match_key"].str.contains(r"^[+-]").all()


def test_explain_json_lists_merges_in_order(lake: Environment) -> None:
    import json

    a, b, c = chain(lake)
    code, out = cli(
        "explain", entity_of(lake)[a], "--user", "analyst", "--purpose", "p", "--format", "json"
    )
    assert code == 0, out
    found = json.loads(out)
    assert {r["record_key"] for r in found["records"]} == {a, b, c}
    steps = [m["step"] for m in found["merges"]]
    assert found["accepted_whole"] or (len(steps) == 2 and steps == sorted(steps))


def test_the_page_loads_in_a_browser_with_the_network_blocked(
    lake: Environment, tmp_path: Path
) -> None:
    from tests.browser import headless_chromium, page_text

    a, _, _ = chain(lake)
    entity = entity_of(lake)[a]
    page = tmp_path / "page.html"
    assert (
        cli("explain", entity, "--user", "analyst", "--purpose", "p", "--html", str(page))[0] == 0
    )
    with headless_chromium(tmp_path) as driver:
        driver.get(page.as_uri())
        assert entity in page_text(driver)
        assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_an_unknown_or_hidden_entity_is_refused_and_audited(lake: Environment) -> None:
    code, out = cli("explain", "ENOSUCH", "--user", "analyst", "--purpose", "p")
    assert code != 0 and "no entity ENOSUCH visible" in out
    code, out = cli("explain", "ENOSUCH", "--user", "nobody", "--purpose", "p")
    assert code != 0 and "unknown user" in out
    secret = read_table(lake, "gold.entities").filter(pl.col("classification") == "SECRET")
    if secret.height:
        hidden = secret["entity_id"][0]
        code, out = cli("explain", hidden, "--user", "junior_analyst", "--purpose", "p")
        assert code != 0 and f"no entity {hidden} visible" in out
    assert set(audit_rows(lake, "explain")["outcome"]) == {"refused"}


def test_why_not_names_the_decision_then_the_evidence(lake: Environment) -> None:
    a, b, c = chain(lake)
    code, out = cli("why-not", a, c, "--user", "analyst", "--purpose", "p")
    assert code == 0 and "same_entity" in out
    records = read_table(lake, "gold.entity_records")
    mine = records.filter(pl.col("record_key") == a).row(0, named=True)
    other = records.filter(
        (pl.col("entity_id") != mine["entity_id"])
        & (pl.col("source_dataset") != mine["source_dataset"])
    ).sort("record_key")["record_key"][0]
    code, out = cli("why-not", a, other, "--user", "analyst", "--purpose", "p")
    assert code == 0, out
    assert out.split(":")[0] in {"below_threshold", "never_compared", "clustered_apart"}
    assert "scores the pair" in out or "scored" in out
    code, out = cli("decide", "cannot-link", a, c, "--user", "steward", "--reason", "twins")
    assert code == 0, out
    resolve_again(lake)
    code, out = cli("why-not", a, c, "--user", "analyst", "--purpose", "p")
    assert code == 0 and out.startswith("decision") and "twins" in out


def test_only_stewards_decide_and_bad_keys_are_refused(lake: Environment) -> None:
    a, b, _ = chain(lake)
    code, out = cli("decide", "cannot-link", a, b, "--user", "analyst", "--reason", "r")
    assert code != 0 and "steward" in out
    code, out = cli("decide", "cannot-link", a, "R-NOPE", "--user", "steward", "--reason", "r")
    assert code != 0 and "unknown record key R-NOPE" in out
    code, out = cli("decide", "withdraw", "DNOPE", "--user", "steward", "--reason", "r")
    assert code != 0 and "unknown decision DNOPE" in out
    assert set(audit_rows(lake, "decide")["outcome"]) == {"refused"}
    assert not (lake.table_path("ops.er_decisions") / "_delta_log").exists()


def test_cannot_link_through_a_chain_survives_rebuild_and_a_new_model(lake: Environment) -> None:
    a, b, c = chain(lake)
    before = entity_of(lake)
    code, out = cli("decide", "cannot-link", a, c, "--user", "steward", "--reason", "two men")
    assert code == 0, out
    decision = out.split(":")[0].strip()
    for full in (False, True):
        resolve_again(lake, full=full)
        now = entity_of(lake)
        assert now[a] != now[c], f"merged after a {'full' if full else 'routine'} run"
        assert now[b] in (now[a], now[c])
        # entities away from the decision keep their ids
        untouched = {k for k, e in before.items() if e != before[a]}
        assert all(now[k] == before[k] for k in untouched)
    # a new model, approved: everything is re-scored, the decision still holds
    code, out = cli("train", "--reason", "test")
    assert code == 0, out
    code, out = cli("approve-model", "2", "--user", "steward")
    assert code == 0, out
    resolve_again(lake)
    now = entity_of(lake)
    assert now[a] != now[c]
    code, out = cli("decide", "withdraw", decision, "--user", "steward", "--reason", "wrong")
    assert code == 0, out
    resolve_again(lake)
    now = entity_of(lake)
    assert now[a] == now[c] == now[b]  # withdrawn: the model's clusters again
    code, out = cli("how", now[a], "--user", "analyst", "--purpose", "p")
    assert code == 0 and "records gained" in out


def test_must_link_merges_two_entities_and_the_id_rule_holds(lake: Environment) -> None:
    records = read_table(lake, "gold.entity_records")
    sizes = records.group_by("entity_id").len()
    big = sizes.filter(pl.col("len") == 2).sort("entity_id")["entity_id"][0]
    small = sizes.filter(pl.col("len") == 1).sort("entity_id")["entity_id"][0]
    first = records.filter(pl.col("entity_id") == big)["record_key"].sort()[0]
    lone = records.filter(pl.col("entity_id") == small)["record_key"][0]
    code, out = cli("decide", "must-link", first, lone, "--user", "steward", "--reason", "same")
    assert code == 0, out
    resolve_again(lake)
    now = entity_of(lake)
    assert now[first] == now[lone] == big  # the larger entity keeps its id
    changes = read_table(lake, "ops.entity_id_changes")
    assert changes.filter((pl.col("entity_id") == small) & (pl.col("change") == "merged")).height
    code, out = cli("how", small, "--user", "analyst", "--purpose", "p")
    assert code == 0 and "merged into" in out


def test_review_lists_the_most_uncertain_first_and_drops_decided_pairs(
    lake: Environment,
) -> None:
    from transforms.resolve.review import review_queue

    queue = review_queue(lake, 0.5, 10, lambda _: True)
    assert queue.height == 10
    assert queue["uncertainty"].is_sorted(descending=True)
    assert set(queue["kind"]) <= {"merge", "non-merge"}
    top = queue.row(0, named=True)
    verb = "cannot-link" if top["kind"] == "merge" else "must-link"
    code, out = cli(
        "decide",
        verb,
        top["record_key_l"],
        top["record_key_r"],
        "--user",
        "steward",
        "--reason",
        "reviewed",
    )
    assert code == 0, out
    again = review_queue(lake, 0.5, 10, lambda _: True)
    pair = (top["record_key_l"], top["record_key_r"])
    assert pair not in set(again.select("record_key_l", "record_key_r").iter_rows())
    code, out = cli("review", "--limit", "5", "--user", "steward", "--purpose", "weekly")
    assert code == 0 and "review queue" in out


def test_a_split_carves_records_out_and_a_contradicting_must_link_is_reported(
    lake: Environment,
) -> None:
    a, b, c = chain(lake)
    entity = entity_of(lake)[a]
    code, out = cli(
        "decide", "split", entity, "--records", c, "--user", "steward", "--reason", "not him"
    )
    assert code == 0, out
    resolve_again(lake)
    now = entity_of(lake)
    assert now[a] == now[b] == entity and now[c] != entity  # the larger part keeps the id
    code, out = cli("decide", "must-link", a, c, "--user", "steward", "--reason", "same after all")
    assert code == 0 and "conflict" in out and "not applied" in out
    resolve_again(lake)
    assert entity_of(lake)[c] != entity_of(lake)[a]  # the split's cannot-links stand
    code, out = cli("quality")
    assert "decision conflict" in out
