"""`lakehouse sql`: read-only SQL over bronze, silver and gold, within clearance, every query audited."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import Result
from deltalake import DeltaTable, write_deltalake
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import TEST_TASK, copy_lakehouse
from transforms.config import Environment
from transforms.delta_io import read_path, read_table
from transforms.governance.audit import AUDIT_LOG, audit
from transforms.governance.search_ledger import log_search
from transforms.governance.sql import (
    QueryFailed,
    QueryRefused,
    check_statement,
    connect,
    run_query,
)

pytestmark = pytest.mark.slow

PURPOSE = "test of governed sql"


@pytest.fixture(scope="module")
def lakehouse(
    built: Environment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Environment]:
    """A private copy of the shared small lakehouse: queries write to its audit log."""
    target = tmp_path_factory.mktemp("sql") / "lakehouse"
    with pytest.MonkeyPatch.context() as patch:
        yield copy_lakehouse(built, target, patch)


@pytest.fixture()
def cli_env(lakehouse: Environment, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Environment:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(lakehouse.home))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(lakehouse.catalogue_dir))
    monkeypatch.chdir(tmp_path)  # relative paths in refused queries would land here
    return lakehouse


def run_sql(query: str, *extra: str, user: str = "analyst", purpose: str = PURPOSE) -> Result:
    return CliRunner().invoke(
        app, ["sql", query, "--user", user, "--purpose", purpose, "--task", TEST_TASK, *extra]
    )


def audit_log(env: Environment) -> pl.DataFrame:
    log = read_path(env.table_path(AUDIT_LOG))
    return pl.DataFrame() if log is None else log


def last_audit(env: Environment) -> dict[str, object]:
    return audit_log(env).sort("at").row(-1, named=True)


# --- allowed queries (the shared lakehouse, read only) -------------------------------------------


def test_a_select_over_gold_returns_rows_and_names_its_tables(built: Environment) -> None:
    result = run_query(
        built,
        "with e as (select * from GOLD.entities) "
        "select e.entity_id, count(r.record_key) as n from e "
        "join gold.entity_records r using (entity_id) group by all order by 1 limit 5",
        "analyst",
        PURPOSE,
    )
    assert result.frame.height == 5 and result.frame.columns == ["entity_id", "n"]
    assert result.tables == ["gold.entities", "gold.entity_records"]
    assert result.seconds > 0


def test_as_of_version_zero_reads_version_zero(built: Environment) -> None:
    expected = read_table(built, "gold.entities", version=0).height
    result = run_query(built, "select count(*) as n from gold.entities", "analyst", PURPOSE, "0")
    assert result.frame["n"][0] == expected
    with pytest.raises(QueryRefused, match=r"gold.entities has no version 999"):
        run_query(built, "select 1 from gold.entities", "analyst", PURPOSE, "999")
    with pytest.raises(QueryRefused, match=r"did not exist at 2000-01-01"):
        run_query(built, "select 1 from gold.entities", "analyst", PURPOSE, "2000-01-01")
    with pytest.raises(QueryRefused, match="neither a version number nor an ISO timestamp"):
        run_query(built, "select 1 from gold.entities", "analyst", PURPOSE, "last week")


def test_clearance_is_checked_per_table(built: Environment) -> None:
    query = "select classification, count(*) from silver.person_records group by all"
    assert set(run_query(built, query, "analyst", PURPOSE).frame["classification"]) >= {"SECRET"}
    with pytest.raises(QueryRefused, match=r"silver.person_records holds SECRET .* OFFICIAL"):
        run_query(built, query, "junior_analyst", PURPOSE)
    # Bronze takes its catalogue classification: electoral_roll is OFFICIAL.
    junior = run_query(built, "select * from bronze.electoral_roll limit 2", "junior_analyst", "x")
    assert junior.frame.height == 2


def test_a_query_that_fails_in_duckdb_is_reported(built: Environment) -> None:
    with pytest.raises(QueryFailed, match="no_such_column") as failed:
        run_query(built, "select no_such_column from gold.entities", "analyst", PURPOSE)
    assert failed.value.tables == ["gold.entities"]


def test_the_statement_check_uses_duckdbs_parser() -> None:
    _, tables = check_statement(
        "with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) "
        "select * from r, silver.addresses a "
        "where a.record_key in (select record_key from bronze.electoral_roll)"
    )
    assert tables == ["bronze.electoral_roll", "silver.addresses"]
    with pytest.raises(QueryRefused, match=r"read_text\(\)"):
        check_statement("select (select count(*) from read_text('/etc/passwd'))")
    with pytest.raises(QueryRefused, match="unknown table entities"):
        check_statement("select * from entities")
    with pytest.raises(QueryRefused, match="other catalogues"):
        check_statement("select * from memory.gold.entities")
    with pytest.raises(QueryRefused, match="--as-of"):
        check_statement("select * from gold.entities at (version => 0)")
    with pytest.raises(QueryRefused, match="SHOW"):
        check_statement("show tables")


def test_the_connection_cannot_read_files_even_past_the_checks(built: Environment) -> None:
    """Defence in depth: straight on the locked connection, with no statement check at all."""
    con = connect({"gold.entities": DeltaTable(str(built.table_path("gold.entities")))})
    try:
        assert con.execute("select count(*) from gold.entities").fetchone() == (
            read_table(built, "gold.entities").height,
        )
        silver = built.table_path("silver.person_records")
        for query in (
            "select * from read_csv('/etc/passwd')",
            "select * from read_text('/etc/passwd')",
            "select * from glob('/*')",
            f"select * from read_parquet('{silver}/*.parquet')",
            "select * from '/etc/passwd'",
            "attach '/tmp/lakehouse-sql-test.db'",
            "copy (select 1) to '/tmp/lakehouse-sql-test.csv'",
            "load httpfs",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(query)
        for query in (
            "set enable_external_access = true",
            "reset enable_external_access",
            "set lock_configuration = false",
        ):
            with pytest.raises(duckdb.InvalidInputException, match="locked"):
                con.execute(query)
        # Only the tables the query named (and was cleared for) exist on the connection.
        with pytest.raises(duckdb.CatalogException):
            con.execute("select * from query('select * from silver.person_records')")
    finally:
        con.close()
    assert not Path("/tmp/lakehouse-sql-test.db").exists()
    assert not Path("/tmp/lakehouse-sql-test.csv").exists()


# --- the command line, audited (a private copy) --------------------------------------------------


def test_an_allowed_query_is_printed_and_audited(cli_env: Environment) -> None:
    query = "select entity_id, classification from gold.entities order by entity_id limit 4"
    result = run_sql(query, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 4 and set(rows[0]) == {"entity_id", "classification"}
    assert "4 rows" in result.stderr
    last = last_audit(cli_env)
    assert last["action"] == "sql" and last["outcome"] == "allowed"
    assert (last["user"], last["purpose"], last["sql"]) == ("analyst", PURPOSE, query)
    assert last["tables"] == ["gold.entities"]
    assert last["rows"] == 4 and last["seconds"] >= 0 and last["reason"] is None
    assert isinstance(last["at"], datetime) and last["at"].tzinfo is not None
    assert datetime.now(UTC) - last["at"] < timedelta(minutes=5)


def test_table_format_prints_a_table(cli_env: Environment) -> None:
    result = run_sql("select entity_id from gold.entities order by 1 limit 2")
    assert result.exit_code == 0, result.output
    assert "entity_id" in result.stdout and "2 rows" in result.stdout


def test_csv_and_json_parse_back(cli_env: Environment) -> None:
    query = (
        "select entity_id, date_of_birth, record_count, datasets "
        "from gold.entities order by entity_id limit 5"
    )
    expected = run_query(cli_env, query, "analyst", PURPOSE).frame
    as_csv = run_sql(query, "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    parsed = pl.read_csv(io.StringIO(as_csv.stdout), try_parse_dates=True)
    assert parsed["entity_id"].to_list() == expected["entity_id"].to_list()
    assert parsed["record_count"].to_list() == expected["record_count"].to_list()
    assert [json.loads(v) for v in parsed["datasets"]] == expected["datasets"].to_list()
    as_json = run_sql(query, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    objects = json.loads(as_json.stdout)
    assert [o["entity_id"] for o in objects] == expected["entity_id"].to_list()
    assert [o["datasets"] for o in objects] == expected["datasets"].to_list()
    assert [o["date_of_birth"] for o in objects] == [
        None if d is None else d.isoformat() for d in expected["date_of_birth"]
    ]


def test_as_of_through_the_command_line(cli_env: Environment) -> None:
    """A new version of a table; --as-of a version or a time before it reads the old rows."""
    path = cli_env.table_path("gold.entity_links")
    before = read_table(cli_env, "gold.entity_links")
    old_version = DeltaTable(str(path)).version()
    old_time = max(e["timestamp"] for e in DeltaTable(str(path)).history())
    write_deltalake(str(path), before.head(3).to_arrow(), mode="overwrite")
    query = "select count(*) as n from gold.entity_links"

    def count(*extra: str) -> int:
        result = run_sql(query, "--format", "json", *extra)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)[0]["n"]

    assert count() == 3
    assert count("--as-of", str(old_version)) == before.height
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=old_time + 1)
    assert count("--as-of", moment.isoformat()) == before.height
    refused = run_sql(query, "--as-of", "999")
    assert refused.exit_code != 0 and "no version 999" in refused.stderr
    assert last_audit(cli_env)["outcome"] == "refused"


REFUSALS = [
    ("ATTACH 'x.db'", "not ATTACH"),
    ("COPY gold.entities TO 'x.csv'", "not COPY"),
    ("INSTALL httpfs", "INSTALL"),
    ("LOAD httpfs", "not LOAD"),
    ("PRAGMA version", "not PRAGMA"),
    ("SET threads=1", "not SET"),
    ("select * from read_csv('/etc/passwd')", r"read_csv\(\)"),
    ("select * from read_parquet('x')", r"read_parquet\(\)"),
    ("select * from glob('*')", r"glob\(\)"),
    ("create table t as select 1", "not CREATE"),
    ("drop table gold.entities", "not DROP"),
    ("select 1; select 2", "exactly one statement"),
    ("select * from ops.audit_log", "schema ops"),
    ("select * from information_schema.tables", "schema information_schema"),
]


@pytest.mark.parametrize(("query", "reason"), REFUSALS, ids=[q for q, _ in REFUSALS])
def test_forbidden_statements_are_refused_and_audited(
    cli_env: Environment, tmp_path: Path, query: str, reason: str
) -> None:
    before = audit_log(cli_env).height
    result = run_sql(query)
    assert result.exit_code != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert re.search(reason, result.stderr), result.stderr
    log = audit_log(cli_env)
    assert log.height == before + 1
    last = last_audit(cli_env)
    assert (last["outcome"], last["sql"], last["user"]) == ("refused", query, "analyst")
    assert last["rows"] == 0 and re.search(reason, str(last["reason"]))
    assert list(tmp_path.iterdir()) == []  # nothing was written where the query pointed


def test_clearance_refusal_is_audited_with_its_table(cli_env: Environment) -> None:
    query = "select count(*) as n from silver.person_records"
    junior = run_sql(query, user="junior_analyst")
    assert junior.exit_code != 0
    assert "silver.person_records holds SECRET" in junior.stderr
    refused = last_audit(cli_env)
    assert (refused["user"], refused["outcome"]) == ("junior_analyst", "refused")
    assert refused["tables"] == ["silver.person_records"]
    analyst = run_sql(query, "--format", "json")
    assert analyst.exit_code == 0, analyst.output
    assert json.loads(analyst.stdout)[0]["n"] > 0
    allowed = last_audit(cli_env)
    assert (allowed["user"], allowed["outcome"], allowed["rows"]) == ("analyst", "allowed", 1)


def test_unknown_user_empty_purpose_and_bad_format_are_refused_and_audited(
    cli_env: Environment,
) -> None:
    for extra, user, purpose, reason in (
        ((), "mallory", PURPOSE, "unknown user 'mallory'"),
        ((), "analyst", "  ", "--purpose"),
        (("--format", "xml"), "analyst", PURPOSE, "--format"),
    ):
        result = run_sql("select 1", *extra, user=user, purpose=purpose)
        assert result.exit_code != 0
        assert reason in result.stderr and len(result.stderr.strip().splitlines()) == 1
        last = last_audit(cli_env)
        assert (last["user"], last["outcome"], last["sql"]) == (user, "refused", "select 1")
        assert reason in str(last["reason"])


def test_a_failing_query_is_audited_as_an_error(cli_env: Environment) -> None:
    result = run_sql("select no_such_column from gold.entities")
    assert result.exit_code != 0 and "no_such_column" in result.stderr
    last = last_audit(cli_env)
    assert (last["outcome"], last["tables"]) == ("error", ["gold.entities"])


def test_searches_are_audited_the_same_way(cli_env: Environment) -> None:
    log_search(cli_env, "OP-SQL-1", "analyst", "search audit test", 4, 3, 2, 0.5, "search-123")
    last = last_audit(cli_env)
    assert (last["action"], last["user"], last["purpose"], last["outcome"]) == (
        "search",
        "analyst",
        "search audit test",
        "allowed",
    )
    assert last["sql"] is None and last["rows"] == 3 and last["run_id"] == "search-123"
    assert last["tables"] == ["gold.entities", "gold.entity_records", "gold.entity_links"]


def test_audit_refuses_an_unknown_outcome(cli_env: Environment) -> None:
    with pytest.raises(ValueError, match="outcome"):
        audit(
            cli_env,
            user="analyst",
            purpose="x",
            action="sql",
            sql="select 1",
            tables=[],
            rows=0,
            seconds=0.0,
            outcome="maybe",  # type: ignore[arg-type]
        )
