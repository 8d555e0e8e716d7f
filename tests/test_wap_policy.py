"""The silver and gold publication policies, without Dagster: `audit_silver` and `publish_gold`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.conftest import copy_lakehouse
from transforms.config import Environment
from transforms.contract import AUDITED_GOLD, GOLD_TABLES, SILVER_TABLES
from transforms.delta_io import current_version, history, read_path, read_table
from transforms.quality.wap import audit_silver
from transforms.resolve.pipeline import Resolution
from transforms.resolve.publish_gold import NOT_AUDITED, publish_gold
from transforms.resolve.scoring import Scored

pytestmark = pytest.mark.slow

STAMPS = ("run_id", "recorded_at", "model_version")


@pytest.fixture()
def lake(built: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Environment:
    return copy_lakehouse(built, tmp_path / "lake", monkeypatch)


def versions(env: Environment, tables: list[str]) -> dict[str, int | None]:
    return {t: current_version(env.table_path(t)) for t in tables}


def results_of(env: Environment, run_id: str) -> pl.DataFrame:
    results = read_path(env.table_path("ops.quality_results"))
    assert results is not None
    return results.filter(pl.col("run_id") == run_id)


def test_audit_silver_publishes_only_what_changed(lake: Environment) -> None:
    silver = [f"silver.{t}" for t in SILVER_TABLES]
    before = versions(lake, silver)
    audits = audit_silver(lake, "silver-run")  # the warehouse holds what was published
    assert [a.table for a in audits] == silver
    assert all(a.published and not a.changed and not a.blocking_failed for a in audits), [
        (a.table, a.blocking_failed) for a in audits
    ]
    assert versions(lake, silver) == before  # nothing changed: no commit
    for audit in audits:
        assert audit.rows == read_table(lake, audit.table).height
    checks = results_of(lake, "silver-run")
    assert set(checks["asset"]) == set(silver)
    assert {
        "lineage:person_records_to_bronze",
        "lineage:comms_events_to_bronze",
        "expect_column_values_to_be_unique:record_key",  # over the whole table, in SQL
        "expect_table_row_count_to_be_between:table",
    } <= set(checks["check"])
    unique = checks.filter(pl.col("check") == "expect_column_values_to_be_unique:record_key")
    assert unique["checked"].to_list() == [read_table(lake, "silver.person_records").height]

    con = duckdb.connect(str(lake.warehouse))
    try:
        record_key = con.execute(
            "select record_key from silver.person_records where nationality is null "
            "order by record_key limit 1"
        ).fetchone()[0]  # type: ignore[index]
        con.execute(
            "update silver.person_records set nationality = 'FRA' where record_key = ?",
            [record_key],
        )
    finally:
        con.close()
    audits = {a.table: a for a in audit_silver(lake, "change-run")}
    after = versions(lake, silver)
    assert audits["silver.person_records"].changed
    assert after["silver.person_records"] == (before["silver.person_records"] or 0) + 1
    assert {t: v for t, v in after.items() if t != "silver.person_records"} == {
        t: v for t, v in before.items() if t != "silver.person_records"
    }
    assert history(lake.table_path("silver.person_records"))[0]["operation"] == "MERGE"
    published = read_table(lake, "silver.person_records")
    assert published.filter(pl.col("record_key") == record_key)["nationality"].to_list() == ["FRA"]
    changed = results_of(lake, "change-run").filter(
        (pl.col("check") == "expect_column_values_to_not_be_null:record_key")
        & (pl.col("asset") == "silver.person_records")
    )
    assert changed["checked"].to_list() == [1]  # GX saw the changed row only


def test_a_quarantined_person_takes_its_addresses_with_it(lake: Environment) -> None:
    con = duckdb.connect(str(lake.warehouse))
    try:
        first = "select record_key from silver.addresses order by record_key limit 1"
        record_key = con.execute(first).fetchone()[0]  # type: ignore[index]
        con.execute(
            "update silver.person_records set gender = 'X' where record_key = ?", [record_key]
        )
        children = con.execute(
            "select count(*) from silver.addresses where record_key = ?", [record_key]
        ).fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    audits = {a.table: a for a in audit_silver(lake, "quarantine-run")}
    persons, addresses = audits["silver.person_records"], audits["silver.addresses"]
    assert persons.published and record_key in persons.quarantined_keys
    assert addresses.published and addresses.excluded_with_parent == children >= 1
    published = read_table(lake, "silver.addresses")
    assert record_key not in set(published["record_key"])


def resolution_of(env: Environment) -> Resolution:
    """The published gold of `env` as if a run had just produced it (no re-scoring)."""
    tables = {t: read_table(env, f"gold.{t}") for t in GOLD_TABLES}
    state = read_table(env, "ops.er_state")
    changes = read_table(env, "ops.entity_id_changes").drop(*STAMPS).head(3)
    scored = Scored(tables["entity_evidence"], 0, "incremental")
    return Resolution(int(state["model_version"].max()), scored, tables, state, changes)


LEDGERS = [*(f"gold.{t}" for t in GOLD_TABLES), "ops.er_state", "ops.entity_id_changes"]


def test_a_bad_gold_row_publishes_nothing(lake: Environment) -> None:
    result = resolution_of(lake)
    records = result.tables["entity_records"]
    result.tables["entity_records"] = pl.concat([records, records.head(1)])  # a duplicate key
    before = versions(lake, LEDGERS)
    publication = publish_gold(lake, result, "bad-run")
    assert not publication.complete and publication.changes_version == -1
    assert versions(lake, LEDGERS) == before  # the last good gold stays as it is
    assert list(publication.audits) == list(AUDITED_GOLD)
    first, *rest = (publication.audits[t] for t in AUDITED_GOLD)
    assert not first.published and first.blocking_failed
    for skipped in rest:
        assert not skipped.published and skipped.checks[0]["check"] == NOT_AUDITED
    recorded = results_of(lake, "bad-run")
    assert set(recorded["asset"]) == {"gold.entity_records"}  # only what was audited


def _same(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    return a.sort(a.columns).equals(b.select(a.columns).sort(a.columns))


def test_a_complete_run_publishes_gold_state_and_changes(lake: Environment) -> None:
    result = resolution_of(lake)
    records, entities = result.tables["entity_records"], result.tables["entities"]
    result.tables["entity_records"] = records.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit(0.5))
        .otherwise(pl.col("cluster_match_probability"))
        .alias("cluster_match_probability")
    )
    result.tables["entities"] = entities.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("CHANGED"))
        .otherwise(pl.col("given_name"))
        .alias("given_name")
    )
    result.tables["entity_links"] = result.tables["entity_links"].slice(1)
    built = dict(result.tables)
    before = versions(lake, LEDGERS)
    publication = publish_gold(lake, result, "good-run")
    assert publication.complete
    assert result.tables == {}  # taken by the publication: the frames are not held twice
    assert publication.rows == {t: frame.height for t, frame in built.items()}
    after = versions(lake, LEDGERS)
    changed = [*(f"gold.{t}" for t in AUDITED_GOLD), "ops.entity_id_changes"]
    assert all(after[t] == (before[t] or 0) + 1 for t in changed), (before, after)
    unchanged = ["gold.entity_evidence", "ops.er_state"]  # merged by change: nothing to commit
    assert all(after[t] == before[t] for t in unchanged), (before, after)
    for table in GOLD_TABLES:  # Delta and the warehouse copy both equal what the run built
        assert _same(built[table], read_table(lake, f"gold.{table}")), table
        assert _same(built[table], warehouse_copy(lake, table)), table
    merges = {t: history(lake.table_path(f"gold.{t}"))[0]["operation"] for t in AUDITED_GOLD}
    assert set(merges.values()) == {"MERGE"}, merges
    assert publication.changes_version == after["ops.entity_id_changes"]
    appended = read_table(lake, "ops.entity_id_changes").filter(pl.col("run_id") == "good-run")
    assert appended.height == result.changes.height
    assert set(appended["model_version"]) == {result.model_version}
    assert sum(publication.change_counts.values()) == result.changes.height
    assert all(publication.audits[t].published for t in AUDITED_GOLD)
    links = built["entity_links"].slice(1)  # the warehouse copy is level now
    result = replace(result, tables={**built, "entity_links": links})
    assert publish_gold(lake, result, "next-run").complete
    assert _same(links, warehouse_copy(lake, "entity_links"))


def warehouse_copy(env: Environment, table: str) -> pl.DataFrame:
    con = duckdb.connect(str(env.warehouse), read_only=True)
    try:
        return pl.from_arrow(con.sql(f'select * from gold."{table}"').to_arrow_table())  # type: ignore[return-value]
    finally:
        con.close()
