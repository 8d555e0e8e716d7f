"""The synthetic catalogue generator: determinism, truth completeness, formats, deliveries."""

from __future__ import annotations

import io
import json
import re
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from orchestration.cli import app
from transforms.catalogue import dataset_files
from transforms.generate import GenerationReport, generate_catalogue
from transforms.generate.contracts import Contract, load_contracts
from transforms.generate.noise import Noiser
from transforms.generate.rand import Draws

CATALOGUE = Path(__file__).resolve().parent.parent / "catalogue"
START = date(2026, 10, 5)
D0, D1 = "2026-10-05", "2026-10-12"
POSTCODE = re.compile(r"^[A-Z]{1,2}\d{1,2}[A-Z]? \d[ABD-HJLNP-UW-Z]{2}$")


@pytest.fixture(scope="module")
def contracts() -> dict[str, Contract]:
    return load_contracts(CATALOGUE)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, GenerationReport]:
    """One two-delivery catalogue shared by the read-only tests."""
    root = tmp_path_factory.mktemp("gen")
    report = generate_catalogue(
        CATALOGUE, root / "landing", root / "truth", people=1500, seed=7, deliveries=2, start=START
    )
    return root / "landing", root / "truth", report


def read_landing(contract: Contract, path: Path) -> pl.DataFrame:
    """Read a delivery file the way its contract says, every value as delivered text."""
    if contract.format == "csv":
        text = path.read_bytes().decode(contract.encoding)
        return pl.read_csv(io.StringIO(text), separator=contract.separator, infer_schema=False)
    if contract.format == "jsonl":
        return pl.read_ndjson(path, infer_schema_length=None)
    return pl.read_parquet(path)


def landing(run, contracts, dataset: str, delivery: str = D0) -> pl.DataFrame:
    contract = contracts[dataset]
    return read_landing(contract, run[0] / dataset / delivery / f"{dataset}.{contract.extension}")


def ids(frame: pl.DataFrame, contract: Contract) -> pl.Series:
    return frame.select(
        pl.concat_str(
            [pl.lit(f"{contract.name}:"), pl.concat_str(list(contract.record_id), separator="|")]
        )
    ).to_series()


def all_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# --- layout and report -------------------------------------------------------------------


def test_every_dataset_and_delivery_is_written(run, contracts) -> None:
    landing_dir, truth_dir, report = run
    assert set(contracts) == {p.stem for p in dataset_files(CATALOGUE)}
    for name, contract in contracts.items():
        for delivery in (D0, D1):
            path = landing_dir / name / delivery / f"{name}.{contract.extension}"
            assert path.is_file(), path
            assert report.rows[(name, delivery)] > 0
    assert report.total_records == sum(report.rows.values())
    assert report.people == 1500 and report.seed == 7 and report.deliveries == 2
    assert report.records_per_second > 0
    assert (truth_dir / "record_truth.parquet").is_file()
    assert (truth_dir / "people.parquet").is_file()
    # Roughly 3-6 records per person in the first delivery.
    first = sum(v for (_, d), v in report.rows.items() if d == D0)
    assert 3 * 1500 <= first <= 6 * 1500
    assert report.skipped == ()


def _catalogue_with_a_real_dataset(tmp_path: Path) -> Path:
    """The project catalogue plus `my_dataset`, an entry the generator knows nothing of."""
    catalogue = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE, catalogue)
    entry = yaml.safe_load((CATALOGUE / "electoral_roll.yml").read_text(encoding="utf-8"))
    entry["name"] = "my_dataset"
    (catalogue / "my_dataset.yml").write_text(yaml.safe_dump(entry), encoding="utf-8")
    return catalogue


def test_datasets_without_a_generator_are_skipped_and_named(
    tmp_path: Path, contracts, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue = _catalogue_with_a_real_dataset(tmp_path)
    landing_dir, truth_dir = tmp_path / "landing", tmp_path / "truth"
    report = generate_catalogue(catalogue, landing_dir, truth_dir, people=300, seed=5, start=START)
    assert report.skipped == ("my_dataset",)
    assert {name for name, _ in report.rows} == set(contracts)
    assert {p.name for p in landing_dir.iterdir()} == set(contracts)
    assert "my_dataset" not in set(pl.read_parquet(truth_dir / "record_truth.parquet")["dataset"])

    # The command says what it skipped, and succeeds.
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(catalogue))
    result = CliRunner().invoke(app, ["generate", "--people", "300"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "skipped (no generator): my_dataset" in result.output
    assert "generated " in result.output


def test_columns_are_the_catalogue_columns_in_order(run, contracts) -> None:
    for path in sorted(CATALOGUE.glob("*.yml")):
        doc = yaml.safe_load(path.read_text())
        if "columns" not in doc:
            continue
        expected = [c["name"] for c in doc["columns"]]
        for delivery in (D0, D1):
            assert landing(run, contracts, doc["name"], delivery).columns == expected, doc["name"]


def test_parquet_and_json_types(run, contracts) -> None:
    schema = pq.read_schema(run[0] / "vehicle_keepers" / D0 / "vehicle_keepers.parquet")
    assert all(str(t) == "string" for t in schema.types)
    for line in (run[0] / "rocu_nominals" / D0 / "rocu_nominals.jsonl").read_text().splitlines():
        record = json.loads(line)
        assert list(record) == contracts["rocu_nominals"].column_names
        for key in ("aliases", "addresses", "phones", "warning_markers"):
            assert isinstance(record[key], list)
    cdr = (run[0] / "call_detail_records" / D0 / "call_detail_records.csv").read_text().splitlines()
    header = cdr[0].split(",")
    durations = [row.split(",")[header.index("duration_s")] for row in cdr[1:]]
    assert all(re.fullmatch(r"\d+", d) for d in durations)


# --- truth -------------------------------------------------------------------------------


def test_every_record_has_exactly_one_truth_row(run, contracts) -> None:
    truth = pl.read_parquet(run[1] / "record_truth.parquet")
    assert truth["person_id"].null_count() == 0
    for name, contract in contracts.items():
        for delivery in (D0, D1):
            keys = ids(landing(run, contracts, name, delivery), contract)
            assert keys.n_unique() == keys.len(), f"duplicate record ids in {name} {delivery}"
            expected = truth.filter(
                (pl.col("dataset") == name) & (pl.col("delivery_id") == delivery)
            )
            assert expected["record_key"].n_unique() == expected.height
            assert set(keys.to_list()) == set(expected["record_key"].to_list()), name


def test_truth_values_are_clean(run) -> None:
    truth = pl.read_parquet(run[1] / "record_truth.parquet")
    people = pl.read_parquet(run[1] / "people.parquet")
    assert truth.schema["date_of_birth"] == pl.Date and truth.schema["person_id"] == pl.Int64
    for col in ("given_name", "family_name"):
        assert truth[col].str.contains(r"^[A-Z][A-Z' -]*$").all(), col
    assert truth["postcode"].str.contains(POSTCODE.pattern).all()
    phones = truth["phone"].drop_nulls()
    assert phones.len() > 0 and phones.str.contains(r"^\+44\d{10}$").all()
    cdr = truth.filter(pl.col("dataset") == "call_detail_records")
    assert cdr["callee_person_id"].null_count() == 0
    assert (cdr["callee_person_id"] != cdr["person_id"]).all()
    assert truth.filter(pl.col("dataset") != "call_detail_records")[
        "callee_person_id"
    ].null_count() == (truth.height - cdr.height)
    # Some records carry recorded noise, most do not.
    noisy = truth["noise"].list.len() > 0
    assert 0.02 < noisy.mean() < 0.6
    # The population: one row per person, households of 1-5, some twins and maiden names.
    assert people.height == 1500 and people["person_id"].n_unique() == 1500
    sizes = people.group_by("household_id").len()["len"]
    assert sizes.min() >= 1 and sizes.max() <= 5
    twins = people.filter(pl.col("twin_of").is_not_null())
    assert twins.height >= 2
    pair = twins.join(people, left_on="twin_of", right_on="person_id", suffix="_twin")
    assert (pair["date_of_birth"] == pair["date_of_birth_twin"]).all()
    assert (pair["family_name"] == pair["family_name_twin"]).all()
    assert (pair["given_name"] != pair["given_name_twin"]).all()
    adults = people.filter(pl.col("is_adult"))
    assert 0.04 < adults["previous_family_name"].is_not_null().mean() < 0.2
    assert adults["mobile_e164"].null_count() == 0
    assert people["postcode"].str.contains(POSTCODE.pattern).all()


def test_names_are_latin1_and_collide(run) -> None:
    people = pl.read_parquet(run[1] / "people.parquet")
    for col in ("given_name_native", "family_name_native"):
        "\n".join(people[col].to_list()).encode("latin-1")
    top = people["family_name"].value_counts(sort=True)
    assert top["count"][0] >= 20  # very common surnames: collisions between people are common


# --- formats really differ ---------------------------------------------------------------


def test_electoral_roll_format(run, contracts) -> None:
    er = landing(run, contracts, "electoral_roll")
    assert not er["full_name"].str.contains(",").any()
    assert er["full_name"].str.contains(r"^[A-Z][a-z]").mean() > 0.9  # mixed case
    assert er["address_line_2"].null_count() > er.height / 2
    assert er["postcode"].str.contains(POSTCODE.pattern).mean() > 0.85
    assert er["registered_on"].str.contains(r"^\d{4}-\d{2}-\d{2}$").all()


def test_telephone_directory_format(run, contracts) -> None:
    td = landing(run, contracts, "telephone_directory")
    assert td["listed_name"].str.contains(r"^[A-Z' -]+, [A-Z]$").all()
    assert td["telephone"].str.contains(r"^0\d{2,4} \d{3,4} ?\d{3,4}$").all()


def test_travel_manifest_format(run, contracts) -> None:
    tm = landing(run, contracts, "travel_manifests")
    assert tm["mrz_name"].str.contains("<<").all()
    assert tm["mrz_name"].str.contains(r"^[A-Z<]+$").all()
    assert tm["date_of_birth"].drop_nulls().str.contains(r"^\d{6}$").all()
    assert set(tm["sex"].drop_nulls().unique()) <= {"M", "F"}
    assert tm["passport_number"].str.contains(r"^\d{9}$").mean() > 0.98
    phone = tm["contact_phone"]
    assert 0.2 < phone.null_count() / tm.height < 0.8
    assert phone.drop_nulls().str.starts_with("+447").all()
    assert tm["passport_number"].n_unique() < tm.height  # travellers appear once per trip


def test_company_officers_format(run, contracts) -> None:
    path = run[0] / "company_officers" / D0 / "company_officers.csv"
    raw = path.read_bytes()
    text = raw.decode("latin-1")
    assert text.splitlines()[0] == ";".join(contracts["company_officers"].column_names)
    co = landing(run, contracts, "company_officers")
    assert co["birth_month_year"].str.contains(r"^\d{2}/\d{4}$").all()
    assert co["officer_name"].str.contains(r"^[^,]+, \S").all()
    assert co["appointed_on"].str.contains(r"^\d{2}/\d{2}/\d{4}$").all()
    assert set(co["role"].unique()) <= {"Director", "Secretary"}


def test_company_officers_encode_accents_as_latin1(tmp_path: Path) -> None:
    # Big enough that some officer has an accented name: the bytes are Latin-1, not UTF-8.
    generate_catalogue(CATALOGUE, tmp_path / "l", tmp_path / "t", people=6000, seed=3)
    raw = (tmp_path / "l" / "company_officers" / D0 / "company_officers.csv").read_bytes()
    assert any(b >= 0xC0 for b in raw)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_vehicle_keepers_format(run, contracts) -> None:
    vk = landing(run, contracts, "vehicle_keepers")
    assert vk["date_of_birth"].drop_nulls().str.contains(r"^\d{2}/\d{2}/\d{4}$").all()
    assert vk["keeper_name"].str.contains(r"^[A-Z][A-Z' -]+$").all()
    assert vk["keeper_name"].str.contains(r"^(MR|MRS|MS|MISS|DR) ").mean() > 0.3
    assert vk["vehicle_mark"].str.contains(r"^[A-Z]{2}\d{2} [A-Z]{3}$").all()
    assert vk["vehicle_mark"].n_unique() == vk.height


def test_subscriber_records_format(run, contracts) -> None:
    sr = landing(run, contracts, "subscriber_records")
    dob = sr["date_of_birth"].drop_nulls()
    assert dob.str.contains(r"^\d{2}/\d{2}/\d{4}$").all()
    month = dob.str.slice(0, 2).cast(pl.Int32)
    day = dob.str.slice(3, 2).cast(pl.Int32)
    assert (month <= 12).all()  # MM/DD/YYYY: the first field is never > 12 ...
    assert (day > 12).any()  # ... and the second often is
    msisdn = sr["msisdn"]
    assert msisdn.str.contains(r"^(\+447\d{9}|07\d{9})$").all()
    assert msisdn.str.starts_with("+44").any() and msisdn.str.starts_with("07").any()
    assert sr["imei"].str.contains(r"^\d{15}$").all()
    assert not sr["subscriber_name"].str.contains(",").any()


def test_call_detail_records_format(run, contracts) -> None:
    cdr = landing(run, contracts, "call_detail_records")
    assert cdr["start_time_local"].str.contains(r"^2026-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$").all()
    start = cdr["start_time_local"].str.to_datetime("%Y-%m-%d %H:%M:%S")
    assert start.dt.date().min() >= date(2026, 9, 28) and start.dt.date().max() < date(2026, 10, 5)
    assert cdr["cell_id"].str.contains(r"^234-\d{2}-\d{4}-\d{5}$").all()
    for col in ("caller_msisdn", "callee_msisdn"):
        assert cdr[col].str.contains(r"^(\+447\d{9}|07\d{9})$").all()
    assert (cdr["caller_msisdn"].str.slice(-9) != cdr["callee_msisdn"].str.slice(-9)).all()


def test_rocu_nominals_format(run, contracts) -> None:
    rn = landing(run, contracts, "rocu_nominals")
    assert rn["nominal_name"].str.contains(r"^[A-Z][A-Z' -]*, [A-Z]").all()
    assert rn.schema["aliases"] == pl.List(pl.String)
    assert rn["date_of_birth"].null_count() < rn.height
    assert rn["date_of_birth"].drop_nulls().str.contains(r"^\d{4}-\d{2}-\d{2}$").all()


# --- deliveries --------------------------------------------------------------------------


def test_cut_deliveries_keep_most_record_ids(run, contracts) -> None:
    for name, contract in contracts.items():
        if contract.access != "cut":
            continue
        first = set(ids(landing(run, contracts, name, D0), contract).to_list())
        second = set(ids(landing(run, contracts, name, D1), contract).to_list())
        kept = len(first & second) / len(first)
        assert 0.95 <= kept < 1.0 or (kept == 1.0 and len(first) < 200), (name, kept)
        assert second - first, f"{name}: no new records in the later snapshot"


def test_feed_deliveries_add_new_and_redeliver_changed(run, contracts) -> None:
    truth = pl.read_parquet(run[1] / "record_truth.parquet")
    for name, contract in contracts.items():
        if contract.access != "feed":
            continue
        first = landing(run, contracts, name, D0)
        second = landing(run, contracts, name, D1)
        a, b = ids(first, contract), ids(second, contract)
        assert (~b.is_in(a.implode())).any(), f"{name}: no new records"
        again = b.is_in(a.implode())
        if first.height >= 400:
            assert again.any(), f"{name}: nothing re-delivered"
            assert again.sum() < 0.05 * first.height  # ~1% of earlier records
        if again.any():
            # Re-delivered records changed, and truth says they are a revision.
            old = first.filter(a.is_in(b.implode())).sort(contract.record_id)
            new = second.filter(again).sort(contract.record_id)
            assert old.height == new.height
            differs = [old.row(i) != new.row(i) for i in range(old.height)]
            assert all(differs), name
            revised = truth.filter(
                (pl.col("dataset") == name)
                & (pl.col("delivery_id") == D1)
                & (pl.col("revision") > 0)
            )
            assert revised.height == new.height


def test_people_move_between_deliveries(run) -> None:
    truth = pl.read_parquet(run[1] / "record_truth.parquet").filter(
        pl.col("dataset") == "electoral_roll"
    )
    by_delivery = truth.pivot(on="delivery_id", index="person_id", values="postcode").drop_nulls()
    moved = (by_delivery[D0] != by_delivery[D1]).sum()
    assert 0 < moved < 0.05 * by_delivery.height


# --- determinism and safety --------------------------------------------------------------


def test_same_seed_is_byte_identical_and_other_seed_differs(tmp_path: Path) -> None:
    kwargs = {"people": 400, "deliveries": 2, "start": START}
    generate_catalogue(CATALOGUE, tmp_path / "a" / "l", tmp_path / "a" / "t", seed=11, **kwargs)
    generate_catalogue(CATALOGUE, tmp_path / "b" / "l", tmp_path / "b" / "t", seed=11, **kwargs)
    generate_catalogue(CATALOGUE, tmp_path / "c" / "l", tmp_path / "c" / "t", seed=12, **kwargs)
    a, b, c = (all_files(tmp_path / x) for x in "abc")
    assert len(a) == 8 * 2 + 3
    assert a == b
    assert a.keys() == c.keys()
    assert all(a[k] != c[k] for k in a if k.startswith("l/"))


def test_first_delivery_does_not_depend_on_how_many_follow(tmp_path: Path) -> None:
    generate_catalogue(CATALOGUE, tmp_path / "one", tmp_path / "t1", people=300, seed=5)
    generate_catalogue(
        CATALOGUE, tmp_path / "two", tmp_path / "t2", people=300, seed=5, deliveries=2
    )
    one, two = all_files(tmp_path / "one"), all_files(tmp_path / "two")
    assert one == {k: v for k, v in two.items() if D0 in k}


def test_existing_delivery_is_never_overwritten_silently(tmp_path: Path) -> None:
    generate_catalogue(CATALOGUE, tmp_path / "l", tmp_path / "t", people=200, seed=1)
    before = all_files(tmp_path / "l")
    with pytest.raises(FileExistsError, match=D0):
        generate_catalogue(CATALOGUE, tmp_path / "l", tmp_path / "t", people=200, seed=2)
    assert all_files(tmp_path / "l") == before
    generate_catalogue(
        CATALOGUE, tmp_path / "l", tmp_path / "t", people=200, seed=2, overwrite=True
    )
    assert all_files(tmp_path / "l") != before


# --- noise primitives --------------------------------------------------------------------


def _noiser(n: int) -> Noiser:
    return Noiser(Draws(99, np.arange(n), np.zeros(n, dtype=np.int64)))


def test_typos_keep_the_first_letter_and_are_logged() -> None:
    nz = _noiser(2000)
    names = pl.Series(["ELIZABETH", "SMITH", "JO"] * 666 + ["KHAN", "LEE"])
    out = nz.typo(names, 0.5, "typo")
    changed = out != names
    assert 0.2 < changed.mean() < 0.5
    assert (out.str.slice(0, 1) == names.str.slice(0, 1)).all()
    assert (out.filter(names == "JO") == "JO").all()  # too short to perturb
    tags = nz.tags()
    assert (tags.list.len() > 0).to_list() == changed.to_list()


def test_nicknames_and_day_month_swap() -> None:
    nz = _noiser(1000)
    given = pl.Series(["ROBERT", "WILLIAM", "ZOË", "ELIZABETH"] * 250)
    out = nz.nickname(given, 1.0)
    assert set(out.filter(given == "ROBERT")) <= {"BOB", "ROB", "BOBBY"}
    assert (out.filter(given == "ZOË") == "ZOË").all()  # no nickname known
    dates = pl.Series(
        [date(1980, 3, 7), date(1980, 3, 25), date(1990, 5, 5)] * 300 + [date(1990, 1, 1)] * 100
    )
    swapped = nz.swap_day_month(dates, 1.0)
    assert (swapped.filter(dates == date(1980, 3, 7)) == date(1980, 7, 3)).all()
    assert (swapped.filter(dates == date(1980, 3, 25)) == date(1980, 3, 25)).all()  # day > 12
    assert (swapped.filter(dates == date(1990, 5, 5)) == date(1990, 5, 5)).all()
