"""Generic values (issue 19 item 5): an identifier held by more records than a person plausibly
has is listed in gold.generic_values, is no evidence for entity resolution, and links nobody."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from tests.conftest import deliver
from tests.pipeline import run_everything
from transforms.catalogue import CatalogueError
from transforms.config import Environment
from transforms.delta_io import read_table
from transforms.generate import generate_catalogue
from transforms.resolve import gold
from transforms.resolve.config import GenericValues, load_resolution_config
from transforms.resolve.features import person_features
from transforms.resolve.generic_values import (
    generic_holders,
    generic_values,
    identifier_values,
    without_generic,
)
from transforms.resolve.pipeline import GENERIC_HOLDERS, silver_features
from transforms.resolve.scoring import feature_hashes

SWITCHBOARD = "+447700900100"
THRESHOLDS = GenericValues(phone=50, address=100, email=50, document=10)


def _silver(holders_of_switchboard: int) -> dict[str, pl.DataFrame]:
    """Silver rows: `holders_of_switchboard` people sharing one number, three sharing a landline,
    each with a phone of their own; the first three also share a care home's address."""
    keys = [f"subscriber_records:{i}" for i in range(holders_of_switchboard)]
    persons = pl.DataFrame(
        {
            "record_key": keys,
            "source_dataset": "subscriber_records",
            "classification": ["TOP_SECRET" if i == 1 else "SECRET" for i in range(len(keys))],
            "given_name": [f"GIVEN{chr(65 + i % 26)}" for i in range(len(keys))],
            "middle_names": None,
            "family_name": [f"FAMILY{chr(65 + i // 26)}" for i in range(len(keys))],
            "date_of_birth": [date(1950, 1, 1) + timedelta(days=97 * i) for i in range(len(keys))],
            "birth_year": None,
        },
        schema_overrides={"middle_names": pl.String, "birth_year": pl.Int64},
    )
    own = [f"+4477009{i:05d}" for i in range(len(keys))]
    phones = pl.DataFrame(
        {
            "record_key": keys * 2 + keys[:3],
            "identifier_type": "phone",
            "identifier": [SWITCHBOARD] * len(keys) + own + ["+441632960000"] * 3,
            "classification": "SECRET",
        }
    )
    addresses = pl.DataFrame(
        {
            "record_key": keys[:3],
            "address_line": "1 ROSE CARE HOME",
            "town": "LEEDS",
            "postcode": "LS1 4AB",
            "country": "GBR",
            "classification": "SECRET",
        }
    )
    documents = pl.DataFrame(
        {
            "record_key": keys[:2],
            "document_type": "passport",
            "document_number": ["123456789", "987654321"],
            "issuing_country": "GBR",
        }
    )
    return {
        "person_records": persons,
        "addresses": addresses,
        "comms_identifiers": phones,
        "document_identifiers": documents,
    }


def _holders(silver: dict[str, pl.DataFrame], thresholds: GenericValues) -> pl.DataFrame:
    values = identifier_values(
        silver["person_records"],
        silver["addresses"],
        silver["comms_identifiers"],
        silver["document_identifiers"],
    )
    return generic_holders(values, thresholds)


def _features(silver: dict[str, pl.DataFrame], holders: pl.DataFrame) -> pl.DataFrame:
    kept = without_generic(
        silver["addresses"], silver["comms_identifiers"], silver["document_identifiers"], holders
    )
    return person_features(silver["person_records"], *kept)


@pytest.mark.parametrize(("holders", "generic"), [(200, True), (51, True), (50, False), (3, False)])
def test_a_value_is_generic_above_its_kinds_threshold(holders: int, generic: bool) -> None:
    found = _holders(_silver(holders), THRESHOLDS)
    listed = set(found.select("identifier_kind", "value").unique().iter_rows())
    assert (("phone", SWITCHBOARD) in listed) is generic
    assert ("phone", "+441632960000") not in listed  # a landline three people share


def test_each_kind_has_its_own_threshold() -> None:
    silver = _silver(3)
    strict = GenericValues(phone=2, address=2, email=2, document=2)
    listed = set(_holders(silver, strict).select("identifier_kind", "value").unique().iter_rows())
    assert listed == {
        ("phone", SWITCHBOARD),
        ("phone", "+441632960000"),
        ("address", "1 ROSE CARE HOME, LS1 4AB"),
    }  # each passport is held by one record: not generic at any threshold


def test_generic_values_vanish_from_the_features_and_change_their_hash() -> None:
    silver = _silver(200)
    before = _features(silver, _holders(silver, THRESHOLDS).clear())
    holders = _holders(silver, THRESHOLDS)
    after = _features(silver, holders)
    assert before["phones"].explode().eq(SWITCHBOARD).sum() == 200
    assert not after["phones"].explode().eq(SWITCHBOARD).any()
    own = after.filter(pl.col("unique_id") == "subscriber_records:7")["phones"].to_list()
    assert own == [["+447700900007"]]  # the record's own number stays evidence
    changed = feature_hashes(before).join(feature_hashes(after), on="unique_id", suffix="_after")
    assert (changed["feature_hash"] != changed["feature_hash_after"]).all()  # all re-scored
    strict = GenericValues(phone=1000, address=2, email=50, document=10)
    care_home = _features(silver, _holders(silver, strict)).filter(
        pl.col("unique_id") == "subscriber_records:0"
    )
    assert care_home["postcodes"].to_list() == [None]  # unknown, not a different address
    assert care_home["address_keys"].to_list() == [None]


def test_the_gold_table_counts_records_entities_and_carries_the_highest_classification() -> None:
    silver = _silver(200)
    holders = _holders(silver, THRESHOLDS)
    records = silver["person_records"].select(
        "record_key",
        pl.when(pl.int_range(pl.len()) < 2)  # two records resolved as one person
        .then(pl.lit("E0"))
        .otherwise(pl.format("E{}", pl.int_range(pl.len())))
        .alias("entity_id"),
    )
    table = generic_values(holders, records)
    assert table.to_dicts() == [
        {
            "identifier_kind": "phone",
            "value": SWITCHBOARD,
            "records": 200,
            "entities": 199,
            "threshold": 50,
            "classification": "TOP_SECRET",
        }
    ]
    empty = generic_values(holders.clear(), records)
    assert empty.height == 0 and empty.schema == table.schema


def test_a_generic_phone_or_address_makes_no_link() -> None:
    silver = _silver(200)
    records = silver["person_records"].select(
        "record_key", pl.format("E{}", pl.int_range(pl.len()).cast(pl.String).str.zfill(3))
    )
    records = records.rename({records.columns[1]: "entity_id"})
    events = pl.DataFrame(
        {
            "event_key": ["call:1", "call:2"],
            "caller": [SWITCHBOARD, "+447700900005"],
            "callee": ["+447700900004", "+447700900006"],
            "duration_s": [60, 30],
            "classification": "SECRET",
        }
    )
    strict = GenericValues(phone=50, address=2, email=50, document=10)
    holders = _holders(silver, strict)
    links = gold.entity_links(
        records, silver["addresses"], silver["comms_identifiers"], events, holders
    )
    assert not links["evidence"].str.contains(SWITCHBOARD, literal=True).any()
    assert not links["evidence"].str.contains("ROSE CARE HOME", literal=True).any()
    assert links.filter(pl.col("link_type") == "called")["evidence"].to_list() == [
        "1 calls, 30 s; call:2"
    ]  # a call between two people's own numbers still links them
    shared = links.filter(pl.col("link_type") == "shared_phone")
    assert shared["evidence"].to_list() == ["+441632960000"] * 3  # the landline's three links
    unfiltered = gold.entity_links(
        records, silver["addresses"], silver["comms_identifiers"], events, holders.clear()
    )
    assert unfiltered["evidence"].str.contains(SWITCHBOARD, literal=True).any()  # can fail


@pytest.mark.parametrize("bad", ["many", 0, 1, -5, None])
def test_a_bad_threshold_is_a_clear_error(tmp_path: Path, bad: object) -> None:
    text = (Path(__file__).parents[1] / "catalogue" / "entity_resolution.yml").read_text()
    lines = text.splitlines()
    at = lines.index("  phone: 150")
    lines[at] = f"  phone: {'null' if bad is None else bad}"
    (tmp_path / "entity_resolution.yml").write_text("\n".join(lines) + "\n")
    with pytest.raises(CatalogueError, match=r"generic_values\.phone"):
        load_resolution_config(tmp_path)


def test_the_shipped_thresholds_cover_every_identifier_kind() -> None:
    from transforms.contract import IDENTIFIER_KINDS

    config = load_resolution_config(Path(__file__).parents[1] / "catalogue")
    assert tuple(config.generic_values.model_dump()) == IDENTIFIER_KINDS


# --- end to end: a switchboard number shared by 200 people ----------------------------------

PLANTED = 200
SUBSCRIBER_HEADER = (
    "account_id,subscriber_name,date_of_birth,address_line,town,postcode,msisdn,email,imei,"
    "activated_on"
)
GIVEN = ["Aurelio", "Bettina", "Casimir", "Delphine", "Evander", "Fenella", "Gervase", "Honora"]
FAMILY = [f"Qx{a}{b}son" for a in "bcdfghjklmnpqrstvwxz" for b in "aeiou"][:25]


def _plant_switchboard(env: Environment) -> set[str]:
    """200 subscriber accounts of 200 different people, each giving one switchboard's number."""
    rows, keys = [SUBSCRIBER_HEADER], set()
    for i in range(PLANTED):
        account = f"SWB{i:06d}"
        name = f"{GIVEN[i % len(GIVEN)]} {FAMILY[i // len(GIVEN)]}"
        born = date(1940, 1, 3) + timedelta(days=113 * i)
        rows.append(f"{account},{name},{born:%m/%d/%Y},,,,{SWITCHBOARD},,,2025-01-01")
        keys.add(f"subscriber_records:{account}")
    deliver(env, "subscriber_records", "2026-10-06", {"switchboard.csv": "\n".join(rows).encode()})
    truth = env.truth / "record_truth.parquet"
    known = pl.read_parquet(truth)
    first = int(known["person_id"].max()) + 1
    planted = pl.DataFrame(
        {
            "record_key": sorted(keys),
            "dataset": "subscriber_records",
            "delivery_id": "2026-10-06",
            "person_id": range(first, first + PLANTED),
        }
    )
    pl.concat([known, planted], how="diagonal_relaxed").write_parquet(truth)
    return keys


@pytest.mark.slow
def test_a_switchboard_number_shared_by_200_people_creates_no_links_and_no_merges(
    env: Environment,
) -> None:
    generate_catalogue(env.catalogue_dir, env.landing, env.truth, people=300, seed=19)
    planted = _plant_switchboard(env)
    report = run_everything(env)
    assert report.success, report.failures

    listed = read_table(env, "gold.generic_values")
    row = listed.filter(pl.col("value") == SWITCHBOARD).to_dicts()
    assert len(row) == 1 and row[0]["identifier_kind"] == "phone"
    assert row[0]["records"] >= PLANTED and row[0]["threshold"] == 150
    assert row[0]["classification"] == "SECRET"  # subscriber records are SECRET

    links = read_table(env, "gold.entity_links")
    assert links.height > 0  # other people still link
    assert not links["evidence"].str.contains(SWITCHBOARD, literal=True).any()

    records = read_table(env, "gold.entity_records")
    ours = records.filter(pl.col("record_key").is_in(sorted(planted)))
    assert ours.height == PLANTED
    assert ours["entity_id"].n_unique() == PLANTED  # one person each: no two merged

    features, silver = silver_features(env)
    assert set(silver[GENERIC_HOLDERS]["record_key"]) >= planted
    assert not features["phones"].explode().eq(SWITCHBOARD).any()

    from orchestration.cli import app

    shown = CliRunner().invoke(app, ["quality"])
    assert shown.exit_code == 0, shown.output
    assert SWITCHBOARD in shown.output and "generic values" in shown.output
