"""generate -> ingest -> dbt build -> silver Delta, on a small synthetic catalogue."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from orchestration.dbt_project import prepare_dbt_project
from tests.conftest import CATALOGUE
from tests.pipeline import run_everything
from transforms.config import PROJECT_ROOT, Environment, get_environment
from transforms.delta_io import history, read_table
from transforms.evaluate.reports import current_normalisation_report, invalid_value_counts
from transforms.generate import generate_catalogue

pytestmark = pytest.mark.slow

SCHEMA_COLUMNS = {
    "person_records": {
        "record_key",
        "source_dataset",
        "source_version",
        "source_record_id",
        "classification",
        "given_name",
        "middle_names",
        "family_name",
        "full_name",
        "date_of_birth",
        "birth_year",
        "gender",
        "nationality",
    },
    "addresses": {"record_key", "address_line", "town", "postcode", "country"},
    "comms_identifiers": {"record_key", "identifier_type", "identifier"},
    "document_identifiers": {"record_key", "document_type", "document_number", "issuing_country"},
    "comms_events": {
        "event_key",
        "source_dataset",
        "source_version",
        "caller",
        "callee",
        "started_at",
        "duration_s",
        "cell_id",
    },
}


@pytest.mark.parametrize("table", sorted(SCHEMA_COLUMNS))
def test_silver_tables_have_the_schema_columns(built: Environment, table: str) -> None:
    frame = read_table(built, f"silver.{table}")
    assert frame.height > 0
    assert SCHEMA_COLUMNS[table] <= set(frame.columns)


def test_every_dataset_reaches_person_records(built: Environment) -> None:
    persons = read_table(built, "silver.person_records")
    assert set(persons["source_dataset"]) == {
        "electoral_roll",
        "telephone_directory",
        "travel_manifests",
        "company_officers",
        "vehicle_keepers",
        "subscriber_records",
        "rocu_nominals",
    }
    assert persons["record_key"].is_unique().all()
    assert (
        persons["record_key"] == persons["source_dataset"] + ":" + persons["source_record_id"]
    ).all()
    assert persons["given_name"].str.contains(r"[a-z]").not_().all()  # upper-cased
    assert persons["date_of_birth"].dtype == pl.Date


def test_lineage_resolves_to_bronze_at_its_version(built: Environment) -> None:
    persons = read_table(built, "silver.person_records")
    for dataset, rows in persons.group_by("source_dataset"):
        versions = rows["source_version"].unique().to_list()
        assert len(versions) == 1
        bronze = read_table(built, f"bronze.{dataset[0]}", version=versions[0])
        assert rows.height <= bronze.height
        delivered = set(zip(bronze["_delivery_id"], bronze["_row_number"], strict=True))
        assert (
            set(zip(rows["source_delivery_id"], rows["source_row_number"], strict=True))
            <= delivered
        )


def test_phones_are_e164_and_postcodes_formatted(built: Environment) -> None:
    identifiers = read_table(built, "silver.comms_identifiers")
    phones = identifiers.filter(pl.col("identifier_type") == "phone")["identifier"]
    assert phones.str.contains(r"^\+\d{8,15}$").all()
    postcodes = read_table(built, "silver.addresses")["postcode"].drop_nulls()
    assert postcodes.str.contains(r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$").all()
    events = read_table(built, "silver.comms_events")
    assert str(events["started_at"].dtype.time_zone) == "UTC"  # type: ignore[union-attr]


def test_silver_has_time_travel_history(built: Environment) -> None:
    entries = history(built.table_path("silver.person_records"))
    assert entries[0]["operation"] in {"WRITE", "CREATE TABLE", "CREATE OR REPLACE TABLE"}


def test_normalisation_meets_goal_on_small_catalogue(built: Environment) -> None:
    report = current_normalisation_report(built)
    assert report.height >= 25
    assert report["share"].min() >= 0.97, report.filter(pl.col("share") < 0.97)
    stored = read_table(built, "ops.normalisation_report")
    assert stored.height == report.height
    invalid = invalid_value_counts(built)
    assert set(invalid.columns) >= {"source_dataset", "field", "invalid_values", "invalid_share"}
    assert (invalid["invalid_share"] < 0.05).all()


GUN_LICENCES_YAML = """\
name: firearm_certificates
title: Firearm certificate holders
description: Holders of firearm and shotgun certificates, "Surname, Forenames"; DOB as YYYYMMDD.
owner: team:bulk-personal-data
kind: bulk_personal
classification: OFFICIAL
authorisation: {reference: BPD-PANEL-2026-099, approved_on: 2026-01-01, expires_on: 2099-01-01, purpose: test}
access: cut
source: {format: csv, glob: "*.csv", record_id: [certificate_no]}
columns:
  - {name: certificate_no, type: string, nullable: false}
  - {name: holder, type: string, format: surname_comma_forenames}
  - {name: born, type: string, format: "%Y%m%d"}
  - {name: town, type: string}
  - {name: postcode, type: string}
retention_days: 365
refresh: manual
"""

GUN_LICENCES_SQL = """\
with source as (
    select * from {{ source('bronze', 'firearm_certificates') }}
),

parsed as (
    select
        *,
        parse_person_name(holder, {{ fmt('firearm_certificates', 'holder') }}) as parsed_name,
        parse_date_of_birth(born, {{ fmt('firearm_certificates', 'born') }}) as parsed_birth
    from source
),

final as (
    select
        {{ lineage_columns('firearm_certificates') }},
        'person' as record_type,
        {{ name_columns('parsed_name') }},
        {{ birth_columns('parsed_birth') }},
        {{ address_list([address_struct('null', 'town', 'postcode', 'firearm_certificates')]) }} as addresses
    from parsed
)

select * from final
"""


def test_adding_a_dataset_is_yaml_plus_one_staging_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue = tmp_path / "catalogue"
    dbt_dir = tmp_path / "dbt_project"
    shutil.copytree(CATALOGUE, catalogue)
    shutil.copytree(
        PROJECT_ROOT / "dbt_project", dbt_dir, ignore=shutil.ignore_patterns("target", "logs")
    )
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "lakehouse"))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(catalogue))
    monkeypatch.setenv("LAKEHOUSE_DBT_PROJECT", str(dbt_dir))
    env = get_environment()
    generate_catalogue(CATALOGUE, env.landing, env.truth, people=150, seed=3)

    (catalogue / "firearm_certificates.yml").write_text(GUN_LICENCES_YAML)
    (dbt_dir / "models" / "staging" / "stg_firearm_certificates.sql").write_text(GUN_LICENCES_SQL)
    delivery = env.landing / "firearm_certificates" / "2026-10-05"
    delivery.mkdir(parents=True)
    (delivery / "certs.csv").write_text(
        "certificate_no,holder,born,town,postcode\n"
        'FC1,"Smith, John Albert",19850312,,ls14ab\n'
        'FC2,"Jones, Mary",19900101,Leeds,\n'
        'FC3,"Brown, Ann",19700101,,\n'
    )

    prepare_dbt_project(env)  # `make manifest` for this catalogue
    report = run_everything(env)
    assert report.success, report.failures
    persons = read_table(env, "silver.person_records").filter(
        pl.col("source_dataset") == "firearm_certificates"
    )
    assert persons.select("record_key", "given_name", "middle_names", "family_name").row(0) == (
        "firearm_certificates:FC1",
        "JOHN",
        "ALBERT",
        "SMITH",
    )
    assert str(persons["date_of_birth"][0]) == "1985-03-12"
    postcode = read_table(env, "silver.addresses").filter(
        pl.col("record_key") == "firearm_certificates:FC1"
    )
    assert postcode["postcode"].to_list() == ["LS1 4AB"]
    # A town alone is an address (the model compares towns); nothing at all is none.
    addresses = read_table(env, "silver.addresses").filter(
        pl.col("record_key").is_in(["firearm_certificates:FC2", "firearm_certificates:FC3"])
    )
    assert addresses.select("record_key", "address_line", "town", "postcode").rows() == [
        ("firearm_certificates:FC2", None, "LEEDS", None)
    ]
