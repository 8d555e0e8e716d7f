"""Great Expectations suites: one crafted bad frame per expectation family, suites on disk, Data Docs.

Fast: no Dagster, no lakehouse; frames are built in memory.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from transforms.catalogue import Dataset, load_catalogue
from transforms.config import PROJECT_ROOT
from transforms.quality.data_docs import build_data_docs, remote_references
from transforms.quality.suites import (
    BLOCKING,
    FAMILIES,
    LINEAGE_COLUMNS,
    SEVERITIES,
    WARN,
    bronze_suite,
    gx_module,
    load_suite,
    write_suites,
)
from transforms.quality.validate import ValidationOutcome, drift_check, validate

CATALOGUE = PROJECT_ROOT / "catalogue"
EXPECTATIONS = PROJECT_ROOT / "expectations"


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Dataset]:
    return load_catalogue(CATALOGUE)


def suite(layer: str, table: str) -> dict[str, Any]:
    """The committed suite (the files the pipeline reads)."""
    return load_suite(EXPECTATIONS / layer / f"{table}.json")


def failures(outcome: ValidationOutcome, expectation_type: str, column: str | None = None) -> list:
    return [
        r
        for r in outcome.results
        if not r["success"]
        and r["expectation_type"] == expectation_type
        and (column is None or r["column"] == column)
    ]


def only_failure(outcome: ValidationOutcome, expectation_type: str, column: str | None = None):
    found = failures(outcome, expectation_type, column)
    assert len(found) == 1, [(r["expectation_type"], r["column"]) for r in outcome.results]
    return found[0]


# --- good frames ------------------------------------------------------------------------------


def bronze_frame(dataset: Dataset, rows: int = 3, delivery: str = "d-001") -> pl.DataFrame:
    """A delivery of `dataset` that satisfies its catalogue entry, with lineage columns."""
    data: dict[str, pl.Series] = {}
    for column in dataset.columns:
        if column.name in dataset.source.record_id:
            values: list[Any] = [f"R{i}" for i in range(rows)]
        elif column.format and "%" in column.format:
            values = [
                date(1970 + i, 1 + i % 12, 1 + i % 28).strftime(column.format) for i in range(rows)
            ]
        elif column.type == "int64":
            values = list(range(rows))
        elif column.type == "list<string>":
            values = [[f"{column.name}-{i}"] for i in range(rows)]
        else:
            values = [f"{column.name}-{i}" for i in range(rows)]
        data[column.name] = pl.Series(column.name, values)
    frame = pl.DataFrame(data)
    return frame.with_columns(
        pl.lit(delivery).alias("_delivery_id"),
        pl.lit(f"{delivery}/file.csv").alias("_source_file"),
        pl.int_range(1, rows + 1, dtype=pl.Int64).alias("_row_number"),
        pl.lit(datetime(2026, 5, 1, tzinfo=UTC)).alias("_ingested_at"),
    )


def person_records(rows: int = 4) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_key": [f"electoral_roll:E{i}" for i in range(rows)],
            "source_dataset": ["electoral_roll"] * rows,
            "source_version": [2] * rows,
            "source_record_id": [f"E{i}" for i in range(rows)],
            "classification": (["OFFICIAL", "SECRET"] * rows)[:rows],
            "given_name": ["JOHN"] * rows,
            "middle_names": [None] * rows,
            "family_name": ["SMITH"] * rows,
            "full_name": ["JOHN SMITH"] * rows,
            "date_of_birth": [date(1950 + i % 60, 1 + i % 12, 1 + i % 28) for i in range(rows)],
            "birth_year": [1950 + i % 60 for i in range(rows)],
            "gender": (["M", "F"] * rows)[:rows],
            "nationality": ["GBR"] * rows,
            "aliases": [[] for _ in range(rows)],
        },
        schema_overrides={"middle_names": pl.String, "aliases": pl.List(pl.String)},
    )


def addresses() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_key": ["a:1", "a:2", "a:3", "a:4"],
            "address_line": ["1 HIGH STREET", "2 MILL LANE", "3 RUE DU BAC", "4 STATION ROAD"],
            "town": ["LEEDS", "LEEDS", "PARIS", "YORK"],
            "postcode": ["LS1 4AB", "LS6 2QT", "75007", None],
            "country": ["GBR", "GBR", "FRA", "GBR"],
            "classification": ["OFFICIAL"] * 4,
        }
    )


def comms_identifiers() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_key": ["s:1", "s:1", "s:2", "s:3"],
            "identifier_type": ["phone", "email", "phone", "imei"],
            "identifier": ["+447700900123", "jo@example.org", "+447700900456", "490154203237518"],
            "classification": ["SECRET"] * 4,
        }
    )


def entity_links() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "entity_id_a": ["E00000000000000A", "E00000000000000A"],
            "entity_id_b": ["E00000000000000B", "E00000000000000C"],
            "link_type": ["shared_address", "called"],
            "weight": [1.0, 3.0],
            "evidence": ["1 HIGH STREET, LS1 4AB", "3 calls"],
            "classification": ["OFFICIAL", "SECRET"],
        }
    )


def test_good_frames_pass_every_expectation(catalogue: dict[str, Dataset]) -> None:
    for frame, checked in [
        (bronze_frame(catalogue["subscriber_records"]), suite("bronze", "subscriber_records")),
        (person_records(), suite("silver", "person_records")),
        (addresses(), suite("silver", "addresses")),
        (comms_identifiers(), suite("silver", "comms_identifiers")),
        (entity_links(), suite("gold", "entity_links")),
    ]:
        outcome = validate(frame, checked)
        assert outcome.success and not outcome.warnings, [
            (r["expectation_type"], r["column"], r["detail"])
            for r in outcome.results
            if not r["success"]
        ]
        assert len(outcome.results) == len(checked["expectations"])


# --- one test per expectation family ----------------------------------------------------------


def test_schema_missing_or_extra_column_blocks(catalogue: dict[str, Dataset]) -> None:
    dataset = catalogue["electoral_roll"]
    checked = suite("bronze", "electoral_roll")
    for frame, expected in [
        (bronze_frame(dataset).drop("town"), "missing columns: town"),
        (
            bronze_frame(dataset).with_columns(pl.lit("x").alias("surprise")),
            "unexpected columns: surprise",
        ),
        (bronze_frame(dataset).drop("_delivery_id"), "missing columns: _delivery_id"),
    ]:
        outcome = validate(frame, checked, key_column="elector_number")
        failure = only_failure(outcome, "expect_table_columns_to_match_set")
        assert (failure["severity"], failure["family"]) == (BLOCKING, "schema")
        assert expected in failure["detail"]
        assert not outcome.success and failure in outcome.blocking_failures

    # silver and gold: the contract's columns must be there, added columns are allowed
    outcome = validate(person_records().drop("classification"), suite("silver", "person_records"))
    assert (
        "missing columns: classification"
        in only_failure(outcome, "expect_table_columns_to_match_set")["detail"]
    )
    outcome = validate(
        person_records().with_columns(pl.lit(1).alias("extra")), suite("silver", "person_records")
    )
    assert outcome.success and not outcome.warnings


def test_keys_duplicate_and_null_key_block() -> None:
    frame = person_records(5).with_columns(
        pl.Series(
            "record_key",
            [
                "electoral_roll:E0",
                "electoral_roll:E1",
                "electoral_roll:E1",
                None,
                "electoral_roll:E4",
            ],
        )
    )
    outcome = validate(frame, suite("silver", "person_records"))
    assert not outcome.success

    duplicate = only_failure(outcome, "expect_column_values_to_be_unique", "record_key")
    assert (duplicate["severity"], duplicate["family"]) == (BLOCKING, "keys")
    assert duplicate["sample_keys"] == ["electoral_roll:E1"]
    assert duplicate["failing_rows"] == [1, 2] and duplicate["unexpected_count"] == 2

    null = only_failure(outcome, "expect_column_values_to_not_be_null", "record_key")
    assert (null["severity"], null["family"]) == (BLOCKING, "keys")
    assert null["sample_keys"] == ["row 3"] and null["failing_rows"] == [3]
    assert null["unexpected_share"] == pytest.approx(0.2)
    assert {id(r) for r in outcome.blocking_failures} == {id(duplicate), id(null)}


def test_keys_bronze_record_id_unique_within_a_delivery(catalogue: dict[str, Dataset]) -> None:
    dataset = catalogue["subscriber_records"]
    checked = suite("bronze", "subscriber_records")
    # the same account in two deliveries of a feed is fine ...
    two_deliveries = pl.concat(
        [bronze_frame(dataset, delivery="d-1"), bronze_frame(dataset, delivery="d-2")]
    )
    assert validate(two_deliveries, checked, key_column="account_id").success
    # ... twice in one delivery is not
    frame = bronze_frame(dataset, rows=4).with_columns(
        pl.Series("account_id", ["R0", "R1", "R1", "R3"])
    )
    outcome = validate(frame, checked, key_column="account_id")
    failure = only_failure(
        outcome, "expect_compound_columns_to_be_unique", "account_id, _delivery_id"
    )
    assert (failure["severity"], failure["family"]) == (BLOCKING, "keys")
    assert failure["sample_keys"] == ["R1"] and failure["failing_rows"] == [1, 2]
    # the key column defaults to the suite's record id when `record_key` is not in the frame
    assert validate(frame, checked).blocking_failures[0]["sample_keys"] == ["R1"]


def test_values_bad_classification_and_link_type_warn() -> None:
    frame = person_records(4).with_columns(
        pl.Series("classification", ["OFFICIAL", "CONFIDENTIAL", "SECRET", "TOP_SECRET"])
    )
    outcome = validate(frame, suite("silver", "person_records"))
    failure = only_failure(outcome, "expect_column_values_to_be_in_set", "classification")
    assert (failure["severity"], failure["family"]) == (WARN, "values")
    assert failure["sample_keys"] == ["electoral_roll:E1"] and failure["sample_values"] == [
        "CONFIDENTIAL"
    ]
    assert failure["failing_rows"] == [1]
    assert outcome.success and outcome.warnings == [failure]  # warnings do not block

    links = entity_links().with_columns(pl.Series("link_type", ["shared_address", "married_to"]))
    outcome = validate(links, suite("gold", "entity_links"), key_column="entity_id_a")
    failure = only_failure(outcome, "expect_column_values_to_be_in_set", "link_type")
    assert (failure["severity"], failure["family"]) == (WARN, "values")
    assert failure["failing_rows"] == [1] and failure["sample_values"] == ["married_to"]


def test_formats_bad_postcode_phone_and_future_birth_date() -> None:
    # UK format only where country = GBR: the French "75007" is not held to it
    frame = addresses().with_columns(pl.Series("postcode", ["LS1 4AB", "LS62QT", "75007", None]))
    outcome = validate(frame, suite("silver", "addresses"))
    failure = only_failure(outcome, "expect_column_values_to_match_regex", "postcode")
    assert (failure["severity"], failure["family"]) == (WARN, "formats")
    assert failure["sample_keys"] == ["a:2"] and failure["sample_values"] == ["LS62QT"]

    # E.164 only where identifier_type = phone
    frame = comms_identifiers().with_columns(
        pl.Series(
            "identifier", ["+447700900123", "jo@example.org", "07700 900456", "490154203237518"]
        )
    )
    outcome = validate(frame, suite("silver", "comms_identifiers"))
    failure = only_failure(outcome, "expect_column_values_to_match_regex", "identifier")
    assert (failure["severity"], failure["family"]) == (WARN, "formats")
    assert failure["sample_keys"] == ["s:2"] and failure["failing_rows"] == [2]

    # dates of birth between 1900-01-01 and today
    frame = person_records(4).with_columns(
        pl.Series("date_of_birth", [date(1980, 1, 1), date(2999, 1, 1), None, date(1899, 12, 31)])
    )
    outcome = validate(frame, suite("silver", "person_records"))
    failure = only_failure(outcome, "expect_column_values_to_be_between", "date_of_birth")
    assert (failure["severity"], failure["family"]) == (WARN, "formats")
    assert failure["sample_keys"] == ["electoral_roll:E1", "electoral_roll:E3"]
    assert failure["sample_values"] == ["2999-01-01", "1899-12-31"]


def test_formats_bronze_birth_date_strftime_is_soft(catalogue: dict[str, Dataset]) -> None:
    dataset = catalogue["subscriber_records"]  # date_of_birth is %m/%d/%Y
    checked = suite("bronze", "subscriber_records")
    frame = bronze_frame(dataset, rows=40)
    one_bad = frame.with_columns(
        pl.when(pl.col("_row_number") == 7)
        .then(pl.lit("1980-01-31"))
        .otherwise(pl.col("date_of_birth"))
        .alias("date_of_birth")
    )
    outcome = validate(one_bad, checked, key_column="account_id")  # 1 in 40: within mostly=0.95
    assert outcome.success and not outcome.warnings
    many_bad = frame.with_columns(
        pl.when(pl.col("_row_number") <= 4)
        .then(pl.lit("31.01.1980"))
        .otherwise(pl.col("date_of_birth"))
        .alias("date_of_birth")
    )
    outcome = validate(many_bad, checked, key_column="account_id")
    failure = only_failure(outcome, "expect_column_values_to_match_regex", "date_of_birth")
    assert (failure["severity"], failure["family"]) == (WARN, "formats")
    assert failure["sample_keys"] == ["R0", "R1", "R2", "R3"] and outcome.success


def test_volume_empty_table() -> None:
    outcome = validate(person_records().head(0), suite("silver", "person_records"))
    failure = only_failure(outcome, "expect_table_row_count_to_be_between")
    assert (failure["severity"], failure["family"]) == (BLOCKING, "volume")
    assert failure["detail"] == "observed 0" and not outcome.success
    # where an empty table can be legitimate (no links found), it is a warning
    outcome = validate(
        entity_links().head(0), suite("gold", "entity_links"), key_column="entity_id_a"
    )
    failure = only_failure(outcome, "expect_table_row_count_to_be_between")
    assert failure["severity"] == WARN and outcome.success


def test_drift_check_against_previous_row_count() -> None:
    assert drift_check(105, 100, 0.1)["success"]
    drifted = drift_check(50, 100, 0.1)
    assert not drifted["success"] and drifted["change"] == pytest.approx(-0.5)
    assert (drifted["severity"], drifted["family"]) == (WARN, "volume")
    assert drift_check(10, None, 0.1)["success"] and drift_check(10, 0, 0.1)["change"] is None
    with pytest.raises(ValueError):
        drift_check(-1, 10, 0.1)


def test_outcome_frame_has_one_row_per_expectation() -> None:
    checked = suite("silver", "person_records")
    outcome = validate(person_records(), checked)
    frame = outcome.frame()
    assert frame.height == len(checked["expectations"])
    assert {
        "expectation_type",
        "column",
        "severity",
        "family",
        "success",
        "unexpected_count",
        "unexpected_share",
        "sample_keys",
        "failing_row_count",
    } <= set(frame.columns)
    assert outcome.raw["success"] is True and len(outcome.raw["results"]) == frame.height
    json.dumps(outcome.raw)  # JSON-serialisable, for Data Docs


# --- the suites on disk -----------------------------------------------------------------------


def test_bronze_suite_follows_the_catalogue(catalogue: dict[str, Dataset]) -> None:
    for dataset in catalogue.values():
        generated = bronze_suite(dataset)
        columns = next(
            e for e in generated["expectations"] if e["type"] == "expect_table_columns_to_match_set"
        )
        assert columns["kwargs"]["column_set"] == [*dataset.column_names, *LINEAGE_COLUMNS]
        assert columns["kwargs"].get("exact_match", True) is True
        not_null = {
            e["kwargs"]["column"]
            for e in generated["expectations"]
            if e["type"] == "expect_column_values_to_not_be_null"
        }
        assert {c.name for c in dataset.columns if not c.nullable} | set(
            LINEAGE_COLUMNS
        ) <= not_null
    formats = {
        name: {
            e["kwargs"]["column"]: e["meta"]["strftime_format"]
            for e in bronze_suite(catalogue[name])["expectations"]
            if "strftime_format" in e["meta"]
        }
        for name in ("subscriber_records", "travel_manifests", "company_officers", "electoral_roll")
    }
    assert formats == {
        "subscriber_records": {"date_of_birth": "%m/%d/%Y"},
        "travel_manifests": {"date_of_birth": "%y%m%d"},
        "company_officers": {"birth_month_year": "%m/%Y"},
        "electoral_roll": {},
    }


def test_suites_are_deterministic(tmp_path: Path) -> None:
    first = write_suites(CATALOGUE, tmp_path / "a")
    second = write_suites(CATALOGUE, tmp_path / "b")
    assert [p.relative_to(tmp_path / "a") for p in first] == [
        p.relative_to(tmp_path / "b") for p in second
    ]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    again = write_suites(CATALOGUE, tmp_path / "a")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in second]


def test_committed_suites_equal_what_the_catalogue_generates(tmp_path: Path) -> None:
    generated = {p.relative_to(tmp_path): p.read_bytes() for p in write_suites(CATALOGUE, tmp_path)}
    committed = {p.relative_to(EXPECTATIONS): p.read_bytes() for p in EXPECTATIONS.glob("*/*.json")}
    assert sorted(committed) == sorted(generated), "run `python -m transforms.quality.suites`"
    stale = [str(p) for p in generated if committed[p] != generated[p]]
    assert not stale, (
        f"expectations/ out of date, run `python -m transforms.quality.suites`: {stale}"
    )


def test_committed_suites_load_back_into_gx() -> None:
    gx = gx_module()
    paths = sorted(EXPECTATIONS.glob("*/*.json"))
    assert {p.parent.name for p in paths} == {"bronze", "silver", "gold"}
    for path in paths:
        raw = load_suite(path)
        loaded = gx.ExpectationSuite(**raw)
        assert loaded.name == f"{path.parent.name}.{path.stem}"
        assert len(loaded.expectations) == len(raw["expectations"]) > 0
        for expectation in raw["expectations"]:
            meta = expectation["meta"]
            assert meta["severity"] in SEVERITIES and meta["family"] in FAMILIES, (
                path,
                expectation,
            )
            if meta["family"] in ("schema", "keys"):
                assert meta["severity"] == BLOCKING
            if meta["family"] in ("values", "formats"):
                assert meta["severity"] == WARN


# --- Data Docs and size -----------------------------------------------------------------------


def test_data_docs_are_self_contained(tmp_path: Path) -> None:
    bad = person_records(3).with_columns(
        pl.Series("classification", ["OFFICIAL", "<b>BAD</b>", "SECRET"])
    )
    outcomes = [
        validate(bad, suite("silver", "person_records")),
        validate(addresses(), suite("silver", "addresses")),
        validate(entity_links().head(0), suite("gold", "entity_links"), key_column="entity_id_a"),
    ]
    index = build_data_docs(outcomes, tmp_path / "docs")
    assert index == tmp_path / "docs" / "index.html"
    pages = sorted((tmp_path / "docs").glob("*.html"))
    assert len(pages) == 4
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert remote_references(html) == [], page
        assert "<script" not in html
    text = index.read_text(encoding="utf-8")
    for name in ("silver.person_records", "silver.addresses", "gold.entity_links"):
        assert name in text
    page = (tmp_path / "docs" / "silver.person_records.html").read_text(encoding="utf-8")
    assert "electoral_roll:E1" in page and "&lt;b&gt;BAD&lt;/b&gt;" in page
    assert remote_references(
        '<script src="https://cdn.example/x.js"></script><link href=//cdn/x.css>'
    )


def test_validates_200k_rows() -> None:
    rows = 200_000
    frame = person_records(rows).with_columns(
        pl.format("electoral_roll:E{}", pl.int_range(0, rows)).alias("record_key"),
        pl.when(pl.int_range(0, rows) == 123_456)
        .then(pl.lit("BAD"))
        .otherwise(pl.col("classification"))
        .alias("classification"),
    )
    outcome = validate(frame, suite("silver", "person_records"))
    failure = only_failure(outcome, "expect_column_values_to_be_in_set", "classification")
    assert failure["sample_keys"] == ["electoral_roll:E123456"]
    assert outcome.success and outcome.rows == rows


def test_gx_private_validator_is_still_there() -> None:
    """validate.py runs GX through its private v1 Validator (see `_validate_one_batch`, which says
    why): a GX upgrade that moves or changes it must fail here, not somewhere in a pipeline."""
    import inspect

    gx_module()
    from great_expectations.validator.v1_validator import Validator

    parameters = inspect.signature(Validator).parameters
    assert {"batch_definition", "batch_parameters", "result_format"} <= set(parameters)
    assert callable(Validator.validate_expectation_suite)


def test_validation_prints_no_progress_bar(capfd: pytest.CaptureFixture[str]) -> None:
    outcome = validate(person_records(), suite("silver", "person_records"))
    assert outcome.success
    captured = capfd.readouterr()
    assert "Calculating Metrics" not in captured.err + captured.out
