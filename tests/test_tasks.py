"""The tasking register: every search, query, explanation and network question serves an open
task covering what it reads, or is refused and audited (issue 20 item 1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import TEST_TASK, copy_lakehouse
from transforms.catalogue import load_catalogue
from transforms.config import Environment
from transforms.delta_io import read_path, read_table


@pytest.fixture(scope="module")
def lake(built: Environment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    with pytest.MonkeyPatch.context() as patch:
        yield copy_lakehouse(built, tmp_path_factory.mktemp("tasks") / "lakehouse", patch)


@pytest.fixture()
def cli_env(lake: Environment, monkeypatch: pytest.MonkeyPatch) -> Environment:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(lake.home))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(lake.catalogue_dir))
    return lake


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def last_audit(env: Environment) -> dict[str, object]:
    return read_table(env, "ops.audit_log").sort("at").row(-1, named=True)


def open_task(ref: str, datasets: str) -> tuple[int, str]:
    return run(
        "task", "open", ref, "--title", f"operation {ref}", "--datasets", datasets,
        "--approved-by", "DCI Ward", "--purpose", "a test operation", "--user", "analyst",
        "--team", "bulk data unit",
    )  # fmt: skip


def sql(query: str, task: str | None) -> tuple[int, str]:
    extra = ["--task", task] if task else []
    return run("sql", query, "--user", "analyst", "--purpose", "tasking test", *extra)


def test_tasks_are_opened_listed_and_closed(cli_env: Environment) -> None:
    code, out = open_task("OP-ALPHA", "electoral_roll,telephone_directory")
    assert code == 0, out
    code, out = open_task("OP-ALPHA", "electoral_roll")
    assert code != 0 and "already exists" in out
    code, out = open_task("OP-BAD", "electoral_roll,no_such_dataset")
    assert code != 0 and "unknown dataset no_such_dataset" in out
    code, out = run("task", "list")
    assert code == 0 and "OP-ALPHA" in out and "open" in out
    code, out = run("task", "close", "OP-ALPHA", "--user", "analyst")
    assert code == 0, out
    code, out = run("task", "close", "OP-ALPHA", "--user", "analyst")
    assert code != 0 and "already closed" in out
    register = (
        read_table(cli_env, "ops.tasks")
        .filter(pl.col("task_ref") == "OP-ALPHA")
        .sort("recorded_at")
    )
    assert register["status"].to_list() == ["open", "closed"]  # append-only
    assert register["requesting_team"][0] == "bulk data unit"
    actions = read_table(cli_env, "ops.audit_log")["action"].to_list()
    assert "task-open" in actions and "task-close" in actions


def test_sql_needs_an_open_task_covering_what_it_reads(cli_env: Environment) -> None:
    query = "select count(*) as n from bronze.electoral_roll"
    code, out = sql(query, None)
    assert code != 0 and "--task REF is required" in out
    assert (last_audit(cli_env)["outcome"], last_audit(cli_env)["action"]) == ("refused", "sql")
    code, out = sql(query, "OP-NOPE")
    assert code != 0 and "unknown task OP-NOPE" in out
    assert open_task("OP-ROLL", "electoral_roll")[0] == 0
    code, out = sql(query, "OP-ROLL")
    assert code == 0, out
    audited = last_audit(cli_env)
    assert (audited["outcome"], audited["task"]) == ("allowed", "OP-ROLL")
    # gold holds every dataset's people: a task naming one dataset does not cover it
    code, out = sql("select count(*) from gold.entities", "OP-ROLL")
    assert code != 0 and "does not cover" in out and "telephone_directory" in out
    code, out = sql("select count(*) from bronze.telephone_directory", "OP-ROLL")
    assert code != 0 and "does not cover telephone_directory" in out
    assert sql("select count(*) from gold.entities", TEST_TASK)[0] == 0
    assert run("task", "close", "OP-ROLL", "--user", "analyst")[0] == 0
    code, out = sql(query, "OP-ROLL")
    assert code != 0 and "task OP-ROLL is closed" in out
    assert last_audit(cli_env)["outcome"] == "refused"


def search(subjects: Path, task: str) -> tuple[int, str]:
    return run(
        "search", "--subjects", str(subjects), "--task", task, "--user", "analyst",
        "--purpose", "tasking test",
    )  # fmt: skip


def test_a_search_without_an_open_task_is_refused_and_audited(
    cli_env: Environment, tmp_path: Path
) -> None:
    person = read_table(cli_env, "gold.entities").row(0, named=True)
    subjects = tmp_path / "s.csv"
    subjects.write_text(
        f"given_name,family_name,date_of_birth\n"
        f"{person['given_name']},{person['family_name']},{person['date_of_birth']}\n"
    )
    before = read_path(cli_env.table_path("ops.search_log"))
    log = 0 if before is None else before.height
    code, out = search(subjects, "OP-UNKNOWN")
    assert code != 0 and "unknown task OP-UNKNOWN" in out
    refused = last_audit(cli_env)
    assert (refused["action"], refused["outcome"], refused["task"]) == (
        "search",
        "refused",
        "OP-UNKNOWN",
    )
    everything = ",".join(sorted(load_catalogue(cli_env.catalogue_dir)))
    assert open_task("OP-SEARCH", everything)[0] == 0
    code, out = search(subjects, "OP-SEARCH")
    assert code == 0, out
    allowed = last_audit(cli_env)
    assert (allowed["action"], allowed["outcome"], allowed["task"]) == (
        "search",
        "allowed",
        "OP-SEARCH",
    )
    assert run("task", "close", "OP-SEARCH", "--user", "analyst")[0] == 0
    code, out = search(subjects, "OP-SEARCH")
    assert code != 0 and "task OP-SEARCH is closed" in out
    assert last_audit(cli_env)["outcome"] == "refused"
    assert read_table(cli_env, "ops.search_log").height == log + 1  # only the allowed one ran


def test_explanations_and_networks_name_a_task(cli_env: Environment) -> None:
    entity = read_table(cli_env, "gold.entities")["entity_id"][0]
    for command in (["explain", entity], ["network", entity], ["how", entity]):
        code, out = run(*command, "--user", "analyst", "--purpose", "p")
        assert code != 0 and "--task REF is required" in out, command
        assert last_audit(cli_env)["outcome"] == "refused"
        code, out = run(*command, "--user", "analyst", "--purpose", "p", "--task", TEST_TASK)
        assert code == 0, out
        assert last_audit(cli_env)["task"] == TEST_TASK


def test_a_cut_for_a_closed_task_is_refused(cli_env: Environment) -> None:
    assert open_task("OP-CUT", "electoral_roll")[0] == 0
    assert run("task", "close", "OP-CUT", "--user", "analyst")[0] == 0
    code, out = run("cut", "rocu_south", "--task", "OP-CUT")
    assert code != 0 and "task OP-CUT is closed" in out
    code, out = run("cut", "rocu_south", "--task", "OP-NEVER")
    assert code != 0 and "unknown task OP-NEVER" in out
