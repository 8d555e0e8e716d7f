"""Write-audit-publish, quarantine, lineage and the stewards' view on a real small lakehouse."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import copy_lakehouse, deliver, electoral_csv
from tests.pipeline import run_everything
from transforms.config import Environment
from transforms.delta_io import current_version, read_table
from transforms.quality.data_docs import remote_references
from transforms.quality.lineage import silver_to_bronze
from transforms.quality.results import latest_results, quarantined
from transforms.quality.suites import load_suite
from transforms.quality.wap import audit_publish, staging_path

pytestmark = pytest.mark.slow


@pytest.fixture()
def lake(built: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Environment:
    return copy_lakehouse(built, tmp_path / "lakehouse", monkeypatch)


def _persons(env: Environment) -> tuple[pl.DataFrame, dict[str, object]]:
    return read_table(env, "silver.person_records"), load_suite(
        env.expectations_dir / "silver" / "person_records.json"
    )


def test_blocking_failure_keeps_the_last_good_version(lake: Environment) -> None:
    persons, suite = _persons(lake)
    version = current_version(lake.table_path("silver.person_records"))
    broken = pl.concat([persons, persons.head(3)])  # duplicate record keys
    audit = audit_publish(lake, "silver", "person_records", broken, suite, "run-bad")
    assert not audit.published
    assert any("unique" in c for c in audit.blocking_failed)
    assert current_version(lake.table_path("silver.person_records")) == version
    assert read_table(lake, "silver.person_records").height == persons.height
    candidate = pl.read_delta(str(staging_path(lake, "silver", "person_records")))
    assert candidate.height == broken.height  # the failed candidate stays inspectable


def test_row_level_failures_are_quarantined_not_published(lake: Environment) -> None:
    persons, suite = _persons(lake)
    bad_keys = persons["record_key"].head(2).to_list()
    frame = persons.with_columns(
        pl.when(pl.col("record_key").is_in(bad_keys))
        .then(pl.lit("X"))
        .otherwise(pl.col("gender"))
        .alias("gender")
    )
    audit = audit_publish(lake, "silver", "person_records", frame, suite, "run-rows")
    assert audit.published and audit.quarantined == 2
    published = read_table(lake, "silver.person_records")
    assert published.height == persons.height - 2
    assert not published["record_key"].is_in(bad_keys).any()
    held = quarantined(lake)
    assert set(held["record_key"]) == set(bad_keys)
    assert set(held["value"]) == {"X"} and held["check"].str.contains("gender").all()
    assert held["dataset"].is_not_null().all() and held["delivery"].is_not_null().all()


def test_lineage_catches_an_injected_orphan(lake: Environment) -> None:
    persons, suite = _persons(lake)
    orphan = persons.head(1).with_columns(
        pl.lit("electoral_roll:NOT-IN-BRONZE").alias("record_key"),
        pl.lit(10**9, dtype=pl.Int64).alias("source_row_number"),
    )
    frame = pl.concat([persons, orphan])
    lineage = silver_to_bronze(lake, frame)
    assert lineage.orphans == ["electoral_roll:NOT-IN-BRONZE"]
    audit = audit_publish(
        lake, "silver", "person_records", frame, suite, "run-orphan", lineage=lineage
    )
    assert not audit.published and audit.blocking_failed == ["lineage:silver_to_bronze"]


def test_clean_run_shows_clean_and_data_docs_are_self_contained(built: Environment) -> None:
    results = latest_results(built)
    assert results.height > 100 and results["passed"].all()
    docs = built.reports / "data_docs"
    pages = sorted(docs.glob("*.html"))
    assert len(pages) >= 16
    for page in pages:
        assert remote_references(page.read_text()) == []
    assert "person_records" in (docs / "index.html").read_text()


def test_bad_delivery_shows_in_quality_and_nothing_bad_is_published(lake: Environment) -> None:
    before = read_table(lake, "bronze.electoral_roll")
    deliver(
        lake, "electoral_roll", "2099-01-01", {"roll.csv": electoral_csv(["AB-1,Ann Lee,1 Road"])}
    )
    report = run_everything(lake, "group:bronze_bulk_personal")
    assert report.success
    assert read_table(lake, "bronze.electoral_roll").equals(before)
    output = CliRunner().invoke(app, ["quality"], env={"COLUMNS": "200"})
    assert output.exit_code == 0, output.output
    assert "2099-01-01" in output.output and "ragged row" in output.output
    assert "reason.json" in output.output
    run_everything(lake, "key:reports/data_docs")
    docs = (lake.reports / "data_docs").glob("*.html")
    assert any("2099-01-01" in page.read_text() for page in docs)
