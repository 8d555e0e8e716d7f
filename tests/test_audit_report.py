"""The auditor's report: each section on a small lakehouse with planted facts, and the page offline.

Planted on a copy of the built lakehouse: a bronze record older than its dataset's retention
(then the retention run), a destruction by `lakehouse destroy`, two partner cuts, refused
queries (above clearance, no task), a bulk search, and an authorisation expiring in 30 days.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import CATALOGUE, TEST_TASK, copy_lakehouse
from tests.test_search import resolved_people, subject_csv
from transforms.catalogue import load_catalogue
from transforms.config import Environment, get_environment
from transforms.delta_io import read_table, write_commit
from transforms.governance.audit_report import (
    Period,
    build_report,
    previous_month,
    render_html,
    write_report,
)
from transforms.governance.audit_report.access import refusal_category
from transforms.governance.audit_report.retention import retention_section
from transforms.governance.destruction import apply_retention
from transforms.html_pages import remote_references

pytestmark = pytest.mark.slow

AGED = "telephone_directory"  # the dataset with a record planted past its retention
DESTROYED = "vehicle_keepers"  # the dataset a steward destroys one record of
EXPIRING = "electoral_roll"  # its authorisation is edited to expire in 30 days


@dataclass
class Planted:
    env: Environment
    aged_key: str
    destroyed_key: str
    past_before_retention: int
    searched_subjects: int
    cut_runs: dict[str, str]  # partner -> run id of the cut made here
    report: dict[str, Any]


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _private_catalogue(target: Path, today: date) -> Path:
    shutil.copytree(CATALOGUE, target)
    entry = target / f"{EXPIRING}.yml"
    raw = yaml.safe_load(entry.read_text())
    raw["authorisation"]["expires_on"] = (today + timedelta(days=30)).isoformat()
    entry.write_text(yaml.safe_dump(raw, sort_keys=False))
    return target


def _age_one_record(env: Environment) -> str:
    """Make one bronze record older than its dataset's retention; returns its record key."""
    dataset = load_catalogue(env.catalogue_dir)[AGED]
    bronze = read_table(env, f"bronze.{AGED}")
    old = datetime.now(UTC) - timedelta(days=dataset.retention_days + 10)
    first = pl.int_range(pl.len()) == 0
    aged = bronze.with_columns(
        pl.when(first).then(pl.lit(old)).otherwise(pl.col("_ingested_at")).alias("_ingested_at")
    )
    write_commit(env.table_path(f"bronze.{AGED}"), aged.to_arrow(), mode="overwrite", metadata={})
    record_id = "|".join(str(bronze[c][0]) for c in dataset.source.record_id)
    return f"{AGED}:{record_id}"


@pytest.fixture(scope="module")
def planted(built: Environment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    root = tmp_path_factory.mktemp("audit_report")
    today = datetime.now(UTC).date()
    with pytest.MonkeyPatch.context() as patch:
        copy_lakehouse(built, root / "lakehouse", patch)
        patch.setenv("LAKEHOUSE_CATALOGUE", str(_private_catalogue(root / "catalogue", today)))
        env = get_environment()
        catalogue = load_catalogue(env.catalogue_dir)
        period = Period(today, today)

        aged_key = _age_one_record(env)
        before = retention_section(env, catalogue, period, datetime.now(UTC))
        certificates = apply_retention(env)
        assert [c.dataset for c in certificates] == [AGED]

        persons = read_table(env, "silver.person_records")
        destroyed_key = sorted(
            persons.filter(pl.col("source_dataset") == DESTROYED)["record_key"].to_list()
        )[0]
        code, out = cli(
            "destroy", "--dataset", DESTROYED, "--record-key", destroyed_key,
            "--reason", "test: court order", "--user", "steward",
        )  # fmt: skip
        assert code == 0, out

        before_cuts = set(read_table(env, "ops.disclosures")["run_id"].to_list())
        for partner in ("rocu_north", "rocu_south"):
            code, out = cli("cut", partner)
            assert code == 0, out
        made = read_table(env, "ops.disclosures").filter(~pl.col("run_id").is_in(before_cuts))
        cut_runs = dict(zip(made["partner"], made["run_id"], strict=True))

        query = ["sql", "--user", "junior_analyst", "--purpose", "audit test", "--task", TEST_TASK]
        code, out = cli(*query, "select count(*) from bronze.travel_manifests")
        assert code != 0 and "clearance" in out  # above junior_analyst's clearance
        code, out = cli("sql", "--user", "analyst", "--purpose", "audit test", "select 1 as one")
        assert code != 0  # no task named
        code, out = cli(
            "sql", "--user", "analyst", "--purpose", "audit test", "--task", TEST_TASK,
            "select count(*) as n from gold.entities",
        )  # fmt: skip
        assert code == 0, out

        people = resolved_people(env).head(2).to_dicts()
        subjects = subject_csv(root / "subjects.csv", people)
        code, out = cli(
            "search", "--subjects", str(subjects), "--task", TEST_TASK,
            "--user", "analyst", "--purpose", "audit test",
        )  # fmt: skip
        assert code == 0, out

        report = build_report(env, today, today)
        yield Planted(
            env,
            aged_key,
            destroyed_key,
            before["records_past_retention"],
            len(people),
            cut_runs,
            report,
        )


def test_retention_shows_none_past_retention_with_the_proving_query(planted: Planted) -> None:
    assert planted.past_before_retention == 1  # the planted record was past retention before
    retention = planted.report["retention"]
    assert retention["records_past_retention"] == 0
    aged = next(d for d in retention["datasets"] if d["dataset"] == AGED)
    assert aged["retention_days"] == 1095 and aged["records_held"] > 0
    assert "_ingested_at <" in aged["query"] and f"from bronze.{AGED}" in aged["query"]
    assert aged["oldest_ingested_at"] > aged["cutoff"]  # ISO strings in UTC compare in order
    [run] = retention["retention_runs"]
    assert run["dataset"] == AGED and run["records"] == 1 and run["bronze_rows"] == 1
    finding = next(
        f for f in planted.report["findings"] if f["check"] == "no_records_past_retention"
    )
    assert finding["passed"]


def test_each_destruction_has_its_certificate_and_is_reverified_clean(planted: Planted) -> None:
    destruction = planted.report["destruction"]
    by_dataset = {c["dataset"]: c for c in destruction["destructions"]}
    assert set(by_dataset) == {AGED, DESTROYED}
    steward = by_dataset[DESTROYED]
    assert steward["user"] == "steward" and steward["record_keys"] == [planted.destroyed_key]
    assert steward["rows_per_table"][f"bronze.{DESTROYED}"] == 1
    assert steward["removed_files"] and all(
        len(f["sha256"]) == 64 for f in steward["removed_files"]
    )
    assert by_dataset[AGED]["record_keys"] == [planted.aged_key]
    check = destruction["reverification"]
    assert check["clean"] and check["present"] == [] and check["keys_searched"] == 2
    searched = {t["table"] for t in check["tables"]}
    assert {f"bronze.{AGED}", f"bronze.{DESTROYED}", "silver.person_records"} <= searched
    assert "gold.entity_records" in searched and check["versions_checked"] >= len(searched)
    assert check["purged_versions"] and all(p["readable"] == 0 for p in check["purged_versions"])


def test_reverification_finds_a_destroyed_key_that_is_back(planted: Planted) -> None:
    from transforms.governance.audit_report.destruction import reverify

    catalogue = load_catalogue(planted.env.catalogue_dir)
    present = read_table(planted.env, "silver.person_records")["record_key"][0]
    found = reverify(planted.env, catalogue, [present])
    tables = {p["table"] for p in found["present"]}
    assert "silver.person_records" in tables and "gold.entity_records" in tables
    assert any(t.startswith("bronze.") for t in tables)  # bronze found through its record_id


def test_two_cuts_with_clearance_withheld_rows_and_checksums_verified(planted: Planted) -> None:
    assert set(planted.cut_runs) == {"rocu_north", "rocu_south"}
    cuts = {c["run_id"]: c for c in planted.report["disclosure"]["cuts"]}
    recorded = read_table(planted.env, "ops.disclosures")
    today = recorded.filter(pl.col("generated_at").dt.date() == datetime.now(UTC).date())
    assert set(cuts) == set(today["run_id"].to_list()) >= set(planted.cut_runs.values())
    clearance = {"rocu_north": "OFFICIAL", "rocu_south": "SECRET"}
    for partner, run_id in planted.cut_runs.items():
        cut = cuts[run_id]
        row = recorded.filter(pl.col("run_id") == run_id).row(0, named=True)
        assert cut["partner"] == partner and cut["clearance"] == clearance[partner]
        assert cut["rows"] == row["rows"] and cut["task"] is None
        assert cut["manifest"] == "ok" and cut["verified"], partner
        assert cut["files"] and all(f["status"] == "ok" for f in cut["files"])
        manifest = json.loads((Path(cut["folder"]) / "manifest.json").read_text())
        assert cut["withheld_above_clearance"] == sum(
            t["withheld_above_clearance"] for t in manifest["tables"]
        )
    redacted = [c for c in cuts.values() if c["redactions"]]  # copies the destruction redacted
    assert all(c["manifest"] == "redacted" and c["verified"] for c in redacted)
    assert planted.report["disclosure"]["all_verified"]


def test_a_tampered_cut_file_is_flagged(
    planted: Planted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = copy_lakehouse(planted.env, tmp_path / "lakehouse", monkeypatch)  # its own catalogue
    run_id = planted.cut_runs["rocu_north"]
    cut = next(c for c in planted.report["disclosure"]["cuts"] if c["run_id"] == run_id)
    victim = env.cuts / "rocu_north" / cut["run_id"] / cut["files"][0]["name"]
    victim.write_bytes(victim.read_bytes() + b"\n")
    today = datetime.now(UTC).date()
    report = build_report(env, today, today)
    tampered = next(c for c in report["disclosure"]["cuts"] if c["run_id"] == run_id)
    assert not tampered["verified"] and tampered["manifest"] == "ok"
    [bad] = [f for f in tampered["files"] if f["status"] != "ok"]
    assert bad["name"] == victim.name and bad["status"] == "mismatch"
    assert all(c["verified"] for c in report["disclosure"]["cuts"] if c["run_id"] != run_id)
    finding = next(f for f in report["findings"] if f["check"] == "cut_checksums_verified")
    assert not finding["passed"] and f"rocu_north/{run_id}" in finding["detail"]


def test_access_counts_requests_refusals_by_reason_and_reads_above_clearance(
    planted: Planted,
) -> None:
    access = planted.report["access"]
    log = read_table(planted.env, "ops.audit_log")
    today = log.filter(pl.col("at").dt.date() == datetime.now(UTC).date())
    assert access["requests"] == today.height
    assert access["refusals"] == today.filter(pl.col("outcome") == "refused").height
    reasons = {r["category"]: r["refusals"] for r in access["refusals_by_reason"]}
    assert reasons["above clearance"] >= 1 and reasons["no task named"] >= 1
    assert sum(reasons.values()) == access["refusals"]
    [above] = [a for a in access["above_clearance_attempts"] if a["category"] == "above clearance"]
    assert above["user"] == "junior_analyst" and above["clearance"] == "OFFICIAL"
    assert above["tables"] == ["bronze.travel_manifests"]
    rows = {(r["user"], r["purpose"], r["task"]): r for r in access["by_user_purpose_task"]}
    analyst = rows[("analyst", "audit test", TEST_TASK)]
    assert analyst["queries"] >= 1 and analyst["allowed"] >= 1
    assert rows[("analyst", "audit test", None)]["refused"] >= 1
    assert access["reclassifications"] == []


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        (
            "bronze.x holds SECRET data, above junior_analyst's clearance OFFICIAL",
            "above clearance",
        ),
        ("no entity E123 visible", "entity not visible"),
        ("--task REF is required: name an open task (lakehouse task list)", "no task named"),
        (
            "task OP-1 is closed: nothing may be read under it",
            "task unknown, closed or not covering",
        ),
        ("unknown user 'mallory'", "unknown user"),
        ("only read-only SELECT queries are allowed, not DELETE", "not a read-only query"),
        ("something new", "other"),
    ],
)
def test_refusal_reasons_fall_in_categories(reason: str, category: str) -> None:
    assert refusal_category(reason) == category


def test_authorisation_flags_the_dataset_expiring_within_60_days(planted: Planted) -> None:
    auth = planted.report["authorisation"]
    entry = next(d for d in auth["datasets"] if d["dataset"] == EXPIRING)
    assert entry["days_left"] == 30 and entry["expiring_soon"] and entry["status"] == "current"
    assert entry["reference"] == "BPD-PANEL-2026-014"
    assert EXPIRING in auth["expiring_soon"]
    far = [d for d in auth["datasets"] if d["days_left"] is not None and d["days_left"] > 60]
    assert far and not any(d["expiring_soon"] for d in far)
    assert auth["refused_by_gate"] == []  # every authorisation is current


def test_output_figures_match_the_search_log(planted: Planted) -> None:
    log = read_table(planted.env, "ops.search_log").filter(
        pl.col("searched_at").dt.date() == datetime.now(UTC).date()
    )
    totals = planted.report["output"]["totals"]
    assert totals["bulk_searches"] == log.height >= 1
    assert totals["subjects_searched"] == int(log["subjects"].sum()) >= planted.searched_subjects
    assert totals["entities_found"] == int(log["entities_matched"].sum())
    assert totals["links_found"] == int(log["links_found"].sum())
    [task] = [t for t in planted.report["output"]["per_task"] if t["task"] == TEST_TASK]
    assert task["bulk_searches"] == log.filter(pl.col("task") == TEST_TASK).height
    [month] = planted.report["output"]["per_month"]
    assert month["month"] == datetime.now(UTC).date().replace(day=1).isoformat()


def test_tasks_and_tamper_evidence(planted: Planted) -> None:
    tasks = {t["task_ref"]: t for t in planted.report["tasks"]["tasks"]}
    assert tasks[TEST_TASK]["status"] == "open" and tasks[TEST_TASK]["requests_in_period"] >= 1
    chain = planted.report["tamper_evidence"]
    assert chain["available"] and chain["ok"] and chain["breaks"] == []
    assert chain["verdict"].startswith("audit chain intact")


def test_a_period_without_activity_reports_nothing_happened(planted: Planted) -> None:
    report = build_report(planted.env, date(2020, 1, 1), date(2020, 1, 31))
    assert report["destruction"]["destructions"] == [] and report["disclosure"]["cuts"] == []
    assert report["access"]["requests"] == 0 and report["output"]["totals"]["bulk_searches"] == 0
    assert json.loads(json.dumps(report)) == report


def test_previous_month_and_a_bad_period() -> None:
    assert previous_month(date(2027, 1, 1)) == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert previous_month(date(2026, 3, 15)) == Period(date(2026, 2, 1), date(2026, 2, 28))
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2026, 2, 1), date(2026, 1, 1))


def test_the_command_writes_html_and_json_and_refuses_bad_dates(planted: Planted) -> None:
    today = datetime.now(UTC).date().isoformat()
    code, out = cli("audit-report", "--from", today, "--to", today)
    assert code == 0, out
    folder = planted.env.reports / "audit" / f"{today}_{today}"
    facts = json.loads((folder / "audit_report.json").read_text())
    assert set(facts) >= {
        "retention", "destruction", "disclosure", "access", "authorisation", "output",
        "tasks", "tamper_evidence", "findings",
    }  # fmt: skip
    assert "records past retention" in out and str(folder / "audit_report.html") in out
    assert cli("audit-report", "--from", "2026-02-30", "--to", today)[0] != 0
    code, out = cli("audit-report", "--from", today, "--to", "2020-01-01")
    assert code != 0 and "before" in out


def test_the_page_has_no_remote_reference_and_loads_with_the_network_blocked(
    planted: Planted, tmp_path: Path
) -> None:
    from tests.browser import headless_chromium, page_text

    today = datetime.now(UTC).date()
    html, json_path, report = write_report(planted.env, today, today, out=tmp_path / "report")
    page = html.read_text()
    assert page == render_html(report) and json.loads(json_path.read_text()) == report
    assert remote_references(page) == []
    with headless_chromium(tmp_path) as driver:
        driver.get(html.as_uri())
        text = page_text(driver)
        for heading in ("Retention", "Destruction", "Disclosure", "Security and access",
                        "Authorisation", "Output", "Tamper evidence"):  # fmt: skip
            assert heading in text
        assert planted.destroyed_key in text and "rocu_south" in text
        assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
