"""The ingestion pathway on real Delta tables: versions, idempotence, the gate, bad input."""

from __future__ import annotations

import io
import json
from datetime import date

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import ELECTORAL_HEADER, deliver, electoral_csv
from transforms.catalogue import Dataset
from transforms.config import Environment
from transforms.delta_io import current_version, history, read_table, write_commit
from transforms.ingest import AuthorisationError, ingest_dataset, ledger
from transforms.ingest.delivery import open_delivery
from transforms.ingest.pipeline import bronze_path, ledger_path, load_delivery

TODAY = date(2026, 11, 25)


def _ingest(env: Environment, dataset: Dataset):  # noqa: ANN202 - IngestSummary
    return ingest_dataset(env, dataset, today=TODAY)


def test_csv_delivery_becomes_one_version_with_lineage(
    env: Environment, catalogue: dict[str, Dataset]
) -> None:
    deliver(env, "electoral_roll", "2026-10-05", {"roll.csv": electoral_csv()})
    summary = _ingest(env, catalogue["electoral_roll"])
    assert [o.status for o in summary.outcomes] == ["ingested"]
    bronze = read_table(env, "bronze.electoral_roll")
    assert bronze.height == 3
    assert bronze["_delivery_id"].unique().to_list() == ["2026-10-05"]
    assert bronze["_source_file"][0] == "electoral_roll/2026-10-05/roll.csv"
    assert bronze["_row_number"].to_list() == [1, 2, 3]
    assert bronze.filter(pl.col("elector_number") == "AB-3")["address_line_2"].item() == "Flat 2"
    assert bronze.filter(pl.col("elector_number") == "AB-1")["address_line_2"].item() is None
    entry = history(bronze_path(env, catalogue["electoral_roll"]))[0]
    assert entry["delivery_id"] == "2026-10-05"
    assert any(k.startswith("sha256:") for k in entry["metadata"])


def test_rerun_is_a_no_op_and_redelivery_is_duplicate(
    env: Environment, catalogue: dict[str, Dataset]
) -> None:
    dataset = catalogue["electoral_roll"]
    deliver(env, "electoral_roll", "2026-10-05", {"roll.csv": electoral_csv()})
    _ingest(env, dataset)
    assert _ingest(env, dataset).outcomes == []
    deliver(env, "electoral_roll", "2026-10-12", {"roll.csv": electoral_csv()})
    outcome = _ingest(env, dataset).outcomes[0]
    assert outcome.status == "duplicate" and "2026-10-05" in (outcome.reason or "")
    assert current_version(bronze_path(env, dataset)) == 0
    statuses = ledger.read(ledger_path(env), "electoral_roll")["status"].to_list()
    assert statuses == ["ingested", "duplicate"]


def test_time_travel_returns_older_cut_delivery(
    env: Environment, catalogue: dict[str, Dataset]
) -> None:
    dataset = catalogue["electoral_roll"]
    deliver(env, "electoral_roll", "2026-10-05", {"roll.csv": electoral_csv()})
    deliver(env, "electoral_roll", "2026-10-12", {"roll.csv": electoral_csv(ELECTORAL_ROWS_V2)})
    summary = _ingest(env, dataset)
    assert [o.delta_version for o in summary.outcomes] == [0, 1]
    assert read_table(env, "bronze.electoral_roll").height == 1
    old = read_table(env, "bronze.electoral_roll", version=0)
    assert sorted(old["elector_number"]) == ["AB-1", "AB-2", "AB-3"]
    first_commit = history(bronze_path(env, dataset))[-1]["timestamp"]
    assert read_table(env, "bronze.electoral_roll", as_of=first_commit).height == 3


ELECTORAL_ROWS_V2 = ["AB-9,Jane Doe,1 New Road,,York,YO1 7HH,2026-10-01"]


def test_feed_deliveries_append(env: Environment, catalogue: dict[str, Dataset]) -> None:
    dataset = catalogue["travel_manifests"]
    deliver(env, "travel_manifests", "2026-10-05", {"m.jsonl": _manifest_lines(["M1", "M2"])})
    deliver(env, "travel_manifests", "2026-10-12", {"m.jsonl": _manifest_lines(["M3"])})
    _ingest(env, dataset)
    assert read_table(env, "bronze.travel_manifests").height == 3
    assert read_table(env, "bronze.travel_manifests", version=0).height == 2


def _manifest_record(manifest_id: str) -> dict[str, object]:
    return {
        "manifest_id": manifest_id,
        "carrier": "BA",
        "flight_number": "BA123",
        "departure_date": "2026-10-01",
        "origin": "LHR",
        "destination": "JFK",
        "mrz_name": "SMITH<<JOHN<ALBERT",
        "date_of_birth": "850312",
        "sex": "M",
        "passport_number": "123456789",
        "nationality": "GBR",
        "contact_phone": None,
    }


def _manifest_lines(ids: list[str], **override: object) -> bytes:
    return "".join(json.dumps({**_manifest_record(i), **override}) + "\n" for i in ids).encode()


def test_crash_after_commit_before_ledger_does_not_duplicate(
    env: Environment, catalogue: dict[str, Dataset]
) -> None:
    dataset = catalogue["travel_manifests"]
    folder = deliver(
        env, "travel_manifests", "2026-10-05", {"m.jsonl": _manifest_lines(["M1", "M2"])}
    )
    delivery = open_delivery(dataset, folder)
    write_commit(  # what a run that died before writing its ledger row left behind
        bronze_path(env, dataset),
        load_delivery(dataset, delivery),
        mode="append",
        metadata={"delivery_id": delivery.delivery_id, "fingerprint": delivery.fingerprint},
    )
    summary = _ingest(env, dataset)
    assert summary.outcomes[0].status == "ingested" and summary.outcomes[0].delta_version == 0
    assert read_table(env, "bronze.travel_manifests").height == 2
    assert current_version(bronze_path(env, dataset)) == 0


@pytest.mark.parametrize("expired", [True, False])
def test_authorisation_gate(env: Environment, catalogue: dict[str, Dataset], expired: bool) -> None:
    dataset = catalogue["electoral_roll"]
    if expired:
        auth = dataset.authorisation.model_copy(update={"expires_on": date(2026, 1, 1)})  # type: ignore[union-attr]
        dataset = dataset.model_copy(update={"authorisation": auth})
    else:
        dataset = dataset.model_copy(update={"authorisation": None})
    deliver(env, "electoral_roll", "2026-10-05", {"roll.csv": electoral_csv()})
    with pytest.raises(AuthorisationError) as info:
        _ingest(env, dataset)
    message = str(info.value)
    assert "electoral_roll" in message
    if expired:
        assert "BPD-PANEL-2026-014" in message and "2026-01-01" in message
    else:
        assert "no recorded authorisation" in message
    assert current_version(bronze_path(env, dataset)) is None
    assert ledger.read(ledger_path(env)).height == 0  # not read at all


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


BAD_INPUTS = {
    "ragged_short_row": (
        "electoral_roll",
        {"roll.csv": electoral_csv([*ELECTORAL_ROWS_V2, "AB-10,Ann Lee,2 Low Road"])},
        "ragged row",
        2,
        "address_line_2",
    ),
    "ragged_long_row": (
        "electoral_roll",
        {
            "roll.csv": electoral_csv(
                [*ELECTORAL_ROWS_V2, "AB-10,Ann Lee,2 Low Road,,York,YO1 1AA,2020-01-01,extra"]
            )
        },
        "ragged row",
        2,
        "<extra field 8>",
    ),
    "undecodable_bytes": (
        "electoral_roll",
        {
            "roll.csv": electoral_csv(
                [*ELECTORAL_ROWS_V2, "AB-10,Ann L\xff\xfeee,2 Low Road,,York,YO1 1AA,2020-01-01"]
            ).replace(b"\xc3\xbf\xc3\xbe", b"\xff\xfe")
        },
        "undecodable bytes",
        2,
        "full_name",
    ),
    "missing_column": (
        "electoral_roll",
        {
            "roll.csv": electoral_csv(
                ["AB-9,Jane Doe,1 New Road,,York,YO1 7HH"],
                header=ELECTORAL_HEADER.rsplit(",", 1)[0],
            )
        },
        "missing column",
        0,
        "registered_on",
    ),
    "extra_column": (
        "electoral_roll",
        {
            "roll.csv": electoral_csv(
                ["AB-9,Jane Doe,1 New Road,,York,YO1 7HH,2020-01-01,x"],
                header=ELECTORAL_HEADER + ",nickname",
            )
        },
        "unexpected column",
        0,
        "nickname",
    ),
    "empty_file": ("electoral_roll", {"roll.csv": b""}, "empty file", None, None),
    "header_only": ("electoral_roll", {"roll.csv": electoral_csv([])}, "empty file", None, None),
    "missing_required_value": (
        "electoral_roll",
        {
            "roll.csv": electoral_csv(
                [*ELECTORAL_ROWS_V2, ",Nameless Person,1 Road,,York,YO1 1AA,2020-01-01"]
            )
        },
        "missing required value",
        2,
        "elector_number",
    ),
    "duplicate_record_id": (
        "electoral_roll",
        {"roll.csv": electoral_csv([*ELECTORAL_ROWS_V2, *ELECTORAL_ROWS_V2])},
        "duplicate record id",
        2,
        "elector_number",
    ),
    "unreadable_parquet": (
        "vehicle_keepers",
        {"keepers.parquet": b"PAR1 this is not parquet PAR1"},
        "unreadable Parquet",
        None,
        None,
    ),
    "parquet_missing_column": (
        "vehicle_keepers",
        {
            "keepers.parquet": _parquet_bytes(
                pa.table({"keeper_record_id": ["K1"], "keeper_name": ["MR A B"]})
            )
        },
        "missing column",
        None,
        "date_of_birth",
    ),
    "invalid_json_line": (
        "travel_manifests",
        {"m.jsonl": _manifest_lines(["M7"]) + b'{"manifest_id": "M8",\n'},
        "invalid JSON",
        2,
        None,
    ),
    "json_extra_key": (
        "travel_manifests",
        {"m.jsonl": _manifest_lines(["M7"], seat="12A")},
        "unexpected column",
        None,
        "seat",
    ),
    "wrong_type": (
        "call_detail_records",
        {
            "c.csv": b"cdr_id,caller_msisdn,callee_msisdn,start_time_local,duration_s,cell_id\nC1,07700900001,07700900002,2026-10-01 10:00:00,61,234-10-1-1\nC2,07700900001,07700900002,2026-10-01 11:00:00,ten,234-10-1-1\n"
        },
        "wrong type",
        2,
        "duration_s",
    ),
    "no_matching_file": ("electoral_roll", {"roll.txt": b"hello"}, "no data file", None, None),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_quarantined_and_changes_nothing(
    env: Environment, catalogue: dict[str, Dataset], case: str
) -> None:
    name, files, problem, row, field = BAD_INPUTS[case]
    dataset = catalogue[name]
    good = {
        "electoral_roll": {"roll.csv": electoral_csv()},
        "travel_manifests": {"m.jsonl": _manifest_lines(["M1", "M2"])},
        "vehicle_keepers": {"keepers.parquet": _parquet_bytes(_keepers_table())},
        "call_detail_records": {
            "c.csv": b"cdr_id,caller_msisdn,callee_msisdn,start_time_local,duration_s,cell_id\nC0,07700900001,07700900002,2026-10-01 09:00:00,5,234-10-1-1\n"
        },
    }[name]
    deliver(env, name, "2026-10-05", good)
    _ingest(env, dataset)
    before = read_table(env, f"bronze.{name}")
    version = current_version(bronze_path(env, dataset))

    deliver(env, name, "2026-10-12", files)
    outcome = _ingest(env, dataset).outcomes[0]

    assert outcome.status == "rejected"
    assert current_version(bronze_path(env, dataset)) == version
    assert read_table(env, f"bronze.{name}").equals(before)
    assert not (env.landing / name / "2026-10-12").exists()
    reason = json.loads((env.quarantine / name / "2026-10-12" / "reason.json").read_text())
    assert problem in reason["problem"]
    assert reason["file"].startswith(f"{name}/2026-10-12")
    assert reason["row"] == row
    assert reason["field"] == field
    assert reason["expected"]
    book = ledger.read(ledger_path(env), name)
    assert book["status"].to_list() == ["ingested", "rejected"]
    assert problem in book["reason"][1]


def _keepers_table() -> pa.Table:
    return pa.table(
        {
            "keeper_record_id": ["K1"],
            "keeper_name": ["MR JOHN SMITH"],
            "date_of_birth": ["12/03/1985"],
            "address": ["12 High Street"],
            "town": ["Leeds"],
            "postcode": ["LS1 4AB"],
            "vehicle_mark": ["AB12 CDE"],
            "make": ["FORD"],
            "colour": ["BLUE"],
        }
    )


def test_rejected_delivery_can_be_redelivered_corrected(
    env: Environment, catalogue: dict[str, Dataset]
) -> None:
    dataset = catalogue["electoral_roll"]
    deliver(env, "electoral_roll", "2026-10-05", {"roll.csv": b""})
    assert _ingest(env, dataset).outcomes[0].status == "rejected"
    deliver(env, "electoral_roll", "2026-10-05", {"roll.csv": electoral_csv()})
    assert _ingest(env, dataset).outcomes[0].status == "ingested"
