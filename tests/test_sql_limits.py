"""Bounded analyst SQL: a statement timeout, a memory limit and a row limit from `lakehouse.yml`,
each cancellation one line naming its limit and audited; settings and environment unreadable."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import TEST_TASK, copy_lakehouse
from transforms.config import (
    PROJECT_ROOT,
    AnalystSqlSettings,
    ConfigError,
    Environment,
    get_environment,
    load_config_file,
)
from transforms.delta_io import read_path
from transforms.governance.audit import AUDIT_LOG
from transforms.governance.sql import (
    QueryCancelled,
    QueryRefused,
    cancellation,
    check_statement,
    connect,
    exposes_server,
    run_query,
)

PURPOSE = "test of bounded sql"
RUNAWAY = "with recursive t(n) as (select 1 union all select n+1 from t) select count(*) from t"
TIMEOUT_S = 2
ROW_LIMIT = 5
LIMITS = {
    "statement_timeout_s": TIMEOUT_S,
    "memory_limit": "1GB",
    "max_temp_directory_size": "1GB",
    "row_limit": ROW_LIMIT,
}


@pytest.fixture(scope="module")
def lakehouse(
    built: Environment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Environment]:
    """A private copy of the shared small lakehouse: queries write to its audit log."""
    target = tmp_path_factory.mktemp("sql_limits") / "lakehouse"
    with pytest.MonkeyPatch.context() as patch:
        yield copy_lakehouse(built, target, patch)


@pytest.fixture()
def bounded(lakehouse: Environment, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Environment:
    """The lakehouse copy under a config file of its own with tight analyst limits."""
    config = tmp_path / "lakehouse.yml"
    config.write_text(yaml.safe_dump({"engine": "duckdb", "analyst_sql": LIMITS}))
    monkeypatch.setenv("LAKEHOUSE_HOME", str(lakehouse.home))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(lakehouse.catalogue_dir))
    monkeypatch.setenv("LAKEHOUSE_CONFIG", str(config))
    monkeypatch.chdir(tmp_path)
    env = get_environment()
    assert env.analyst_sql == AnalystSqlSettings(TIMEOUT_S, "1GB", "1GB", ROW_LIMIT)
    return env


def run_sql(query: str, *extra: str) -> Result:
    return CliRunner().invoke(
        app, ["sql", query, "--user", "analyst", "--purpose", PURPOSE, "--task", TEST_TASK, *extra]
    )


def last_audit(env: Environment) -> dict[str, object]:
    log = read_path(env.table_path(AUDIT_LOG))
    assert log is not None
    return log.sort("at").row(-1, named=True)


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


# --- the statement timeout ----------------------------------------------------------------------


@pytest.mark.slow
def test_the_recursive_query_is_cancelled_within_the_configured_timeout(
    bounded: Environment,
) -> None:
    """Through `lakehouse sql` in its own process, as the issue measured it: killed from outside
    (the test fails) if nothing inside stops it."""
    child = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    command = [sys.executable, "-c", "from orchestration.cli import app; app()"]
    started = time.monotonic()
    done = subprocess.run(
        [*command, "sql", RUNAWAY, "--user", "analyst", "--purpose", PURPOSE, "--task", TEST_TASK],
        env=child,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S + 60,  # the process's start-up (imports) is not the query's time
    )
    wall = time.monotonic() - started
    assert done.returncode != 0
    line = one_line(done.stderr)
    assert "cancelled: statement timeout of 2 s reached" in line
    row = last_audit(bounded)
    assert row["sql"] == RUNAWAY and row["outcome"] == "refused"
    assert str(row["reason"]).startswith("cancelled: statement timeout of 2 s reached")
    assert TIMEOUT_S <= float(row["seconds"]) < TIMEOUT_S + 10  # type: ignore[arg-type]
    assert wall >= TIMEOUT_S


@pytest.mark.slow
def test_run_query_cancels_at_the_timeout_and_the_next_query_runs(bounded: Environment) -> None:
    """In a thread, so that without a working timeout the test fails instead of hanging."""
    errors: list[BaseException] = []

    def runaway() -> None:
        try:
            run_query(bounded, RUNAWAY, "analyst", PURPOSE)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    worker = threading.Thread(target=runaway, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(TIMEOUT_S + 10)
    assert not worker.is_alive(), "the runaway query was not cancelled within timeout + 10 s"
    assert time.monotonic() - started >= TIMEOUT_S
    assert len(errors) == 1 and isinstance(errors[0], QueryCancelled), errors
    assert str(errors[0]).startswith("cancelled: statement timeout of 2 s reached")
    result = run_query(bounded, "select count(*) as n from gold.entities", "analyst", PURPOSE)
    assert result.frame["n"][0] > 0


# --- the row limit ------------------------------------------------------------------------------


@pytest.mark.slow
def test_more_rows_than_the_limit_is_cancelled_not_truncated(bounded: Environment) -> None:
    query = "select record_key from silver.person_records"
    result = run_sql(query, "--format", "csv")
    assert result.exit_code != 0
    assert "record_key" not in result.stdout  # nothing printed, not the first rows
    line = one_line(result.stderr)
    assert "cancelled: row limit of 5 rows exceeded" in line
    row = last_audit(bounded)
    assert row["sql"] == query and row["outcome"] == "refused" and row["rows"] == 0
    assert "row limit of 5 rows exceeded" in str(row["reason"])
    assert row["tables"] == ["silver.person_records"]


@pytest.mark.slow
def test_a_query_within_the_limits_still_works(bounded: Environment) -> None:
    query = "select record_key from silver.person_records order by record_key limit 5"
    result = run_sql(query, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 + ROW_LIMIT  # exactly the limit is allowed
    row = last_audit(bounded)
    assert row["outcome"] == "allowed" and row["rows"] == ROW_LIMIT


# --- the memory limit ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_query_past_the_memory_limit_is_cancelled(bounded: Environment) -> None:
    """A list of every pair of names cannot spill: with 64MB and 1MB of spill it runs out."""
    tight = dataclasses.replace(
        bounded,
        analyst_sql=AnalystSqlSettings(
            statement_timeout_s=120,
            memory_limit="64MB",
            max_temp_directory_size="1MB",
            row_limit=ROW_LIMIT,
        ),
    )
    query = (
        "select list(a.full_name || b.full_name || c.full_name) as pairs "
        "from silver.person_records a, silver.person_records b, silver.person_records c"
    )
    with pytest.raises(QueryCancelled, match=r"^cancelled: memory limit of 64MB reached") as info:
        run_query(tight, query, "analyst", PURPOSE)
    assert info.value.tables == ["silver.person_records"]


@pytest.mark.slow
def test_the_analyst_connection_holds_its_limits_locked(bounded: Environment) -> None:
    con = connect({}, bounded)
    try:
        settings = dict(
            con.sql(
                "select name, value from duckdb_settings() where name in "
                "('memory_limit', 'max_temp_directory_size', 'home_directory', "
                "'lock_configuration', 'enable_external_access')"
            ).fetchall()
        )
        with pytest.raises(duckdb.Error, match="configuration has been locked"):
            con.execute("SET memory_limit = '100GB'")
    finally:
        con.close()
    assert settings["memory_limit"] in ("953.6 MiB", "1000.0 MB", "1.0 GB")  # DuckDB's rendering
    assert settings["home_directory"] == ""
    assert settings["lock_configuration"] == "true"
    assert settings["enable_external_access"] == "false"


def test_duckdb_errors_map_onto_the_limit_they_hit() -> None:
    limits = AnalystSqlSettings(statement_timeout_s=2.5, memory_limit="50MB")
    interrupted = duckdb.InterruptException("INTERRUPT Error: Interrupted!")
    timeout = cancellation(interrupted, limits, True, ["gold.entities"])
    assert timeout is not None and timeout.tables == ["gold.entities"]
    assert str(timeout).startswith("cancelled: statement timeout of 2.5 s reached")
    assert cancellation(interrupted, limits, False, []) is None  # not ours (e.g. Ctrl-C)
    memory = cancellation(
        duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 16 MiB"),
        limits,
        False,
        [],
    )
    assert memory is not None and str(memory).startswith("cancelled: memory limit of 50MB")
    assert isinstance(memory, QueryRefused)  # audited as a refusal, with its reason
    assert cancellation(duckdb.BinderException("no such column"), limits, True, []) is None


# --- settings and environment are not readable ---------------------------------------------------


@pytest.mark.slow
def test_reading_a_setting_is_refused_and_audited(bounded: Environment) -> None:
    query = "select current_setting('home_directory')"
    result = run_sql(query)
    assert result.exit_code != 0
    line = one_line(result.stderr)
    assert "current_setting()" in line and "not allowed" in line
    assert str(Path.home()) not in result.output
    row = last_audit(bounded)
    assert row["sql"] == query and row["outcome"] == "refused"
    assert "current_setting()" in str(row["reason"])


@pytest.mark.parametrize(
    ("query", "function"),
    [
        ("select current_setting('home_directory')", "current_setting()"),
        ("select 'temp_directory'.current_setting()", "current_setting()"),
        ("select main.CURRENT_SETTING('memory_limit')", "current_setting()"),
        ("select getenv('HOME')", "getenv()"),
        ("select getvariable('x')", "getvariable()"),
        ("select version()", "version()"),
        ("select platform(), 1", "platform()"),
        ("select list_transform([1], x -> current_setting('threads'))", "current_setting()"),
        ("select 1 where exists (select current_database())", "current_database()"),
        ("select pg_get_viewdef('gold.entities')", "pg_get_viewdef()"),
        ("select write_log('x')", "write_log()"),
        ("select * from duckdb_settings()", "duckdb_settings()"),
        ("select * from which_secret('s3://x', 's3')", "which_secret()"),
    ],
)
def test_functions_exposing_the_server_are_refused_by_name(query: str, function: str) -> None:
    with pytest.raises(QueryRefused, match=r"not allowed") as refused:
        check_statement(query)
    assert function in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "query",
    [
        "select upper('a'), current_date, list_transform([1, 2], x -> x + 1), typeof(1)",
        "select count(*), string_agg(full_name, ',') from silver.person_records",
        "select row_number() over (order by record_key) from silver.person_records",
    ],
)
def test_ordinary_functions_are_allowed(query: str) -> None:
    check_statement(query)


def test_every_duckdb_pragma_function_is_refused() -> None:
    """A DuckDB upgrade that adds a pragma (version, platform, database_size ...) fails here."""
    con = duckdb.connect()
    try:
        names = [
            row[0]
            for row in con.sql(
                "select distinct function_name from duckdb_functions() "
                "where function_type = 'pragma' or function_name like 'pg\\_%' escape '\\' "
                "or function_name like 'duckdb\\_%' escape '\\'"
            ).fetchall()
        ]
    finally:
        con.close()
    assert "version" in names
    assert [name for name in names if not exposes_server(name)] == []


# --- configuration ------------------------------------------------------------------------------


def test_the_shipped_config_sets_the_documented_defaults() -> None:
    shipped = load_config_file(PROJECT_ROOT / "lakehouse.yml")["analyst_sql"]
    assert shipped == AnalystSqlSettings()
    assert shipped == AnalystSqlSettings(30.0, "2GB", "4GB", 100_000)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"statement_timeout_s": 0}, r"analyst_sql.statement_timeout_s must be a number"),
        ({"statement_timeout_s": "soon"}, r"analyst_sql.statement_timeout_s must be a number"),
        ({"row_limit": 0}, r"analyst_sql.row_limit must be a whole number"),
        ({"row_limit": 2.5}, r"analyst_sql.row_limit must be a whole number"),
        ({"memory_limit": "lots"}, r"analyst_sql.memory_limit 'lots' is not a size"),
        ({"max_temp_directory_size": "50%"}, r"analyst_sql.max_temp_directory_size '50%'"),
        ({"rows": 5}, r"analyst_sql: unknown keys \['rows'\]"),
        ([1, 2], r"analyst_sql must be a mapping"),
    ],
)
def test_a_bad_analyst_sql_setting_is_refused_naming_its_key(
    tmp_path: Path, section: object, message: str
) -> None:
    config = tmp_path / "lakehouse.yml"
    config.write_text(yaml.safe_dump({"analyst_sql": section}))
    with pytest.raises(ConfigError, match=message) as refused:
        load_config_file(config)
    assert str(config) in str(refused.value)


def test_a_partial_section_keeps_the_other_defaults(tmp_path: Path) -> None:
    config = tmp_path / "lakehouse.yml"
    config.write_text(yaml.safe_dump({"analyst_sql": {"row_limit": 10, "memory_limit": "50%"}}))
    settings = load_config_file(config)["analyst_sql"]
    assert settings == AnalystSqlSettings(row_limit=10, memory_limit="50%")
