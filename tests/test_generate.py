"""The synthetic catalogue generator: determinism, truth completeness, formats, deliveries."""

from __future__ import annotations

import dataclasses
import hashlib
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
from transforms.evaluate.normalisation import CONTENT_NOISE as EVALUATED_CONTENT_NOISE
from transforms.generate import GenerationReport, generate_catalogue
from transforms.generate import formats as F
from transforms.generate.contracts import Contract, load_contracts
from transforms.generate.noise import Noiser
from transforms.generate.profiles import CONTENT_NOISE, PROFILES
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


# --- noise profiles ----------------------------------------------------------------------

# Recorded before noise profiles existed (commit 116a48f): the default profile must keep
# producing exactly these files. The digest hashes every file's path and content (Parquet by its
# rows, so a pyarrow upgrade that re-encodes pages does not move it).
DEFAULT_DIGEST_1500 = "781be8a90acb414bd0b9c754bfb183f2b9e6cb2b6f6ec64de5eea49cd0c47b80"
DEFAULT_DIGEST_400 = "2e6076a74670a9226c801f21ff3bf528f6b1ffab1c6cd6d302763fa45d95e98c"
DEFAULT_ROWS_400 = {
    ("call_detail_records", D0): 627,
    ("call_detail_records", D1): 644,
    ("company_officers", D0): 25,
    ("company_officers", D1): 26,
    ("electoral_roll", D0): 212,
    ("electoral_roll", D1): 214,
    ("rocu_nominals", D0): 6,
    ("rocu_nominals", D1): 1,
    ("subscriber_records", D0): 180,
    ("subscriber_records", D1): 3,
    ("telephone_directory", D0): 51,
    ("telephone_directory", D1): 52,
    ("travel_manifests", D0): 121,
    ("travel_manifests", D1): 131,
    ("vehicle_keepers", D0): 151,
    ("vehicle_keepers", D1): 150,
}
HOSTILE_PEOPLE = 3000
PERSON_DATASETS = {
    "company_officers",
    "electoral_roll",
    "rocu_nominals",
    "subscriber_records",
    "telephone_directory",
    "travel_manifests",
    "vehicle_keepers",
}
WITH_TOWN = PERSON_DATASETS - {"travel_manifests"}
WITH_DOB = PERSON_DATASETS - {"electoral_roll", "telephone_directory"}
WITH_MIDDLE = PERSON_DATASETS - {"rocu_nominals", "telephone_directory"}
WITH_PHONE = {"rocu_nominals", "subscriber_records", "telephone_directory", "travel_manifests"}


def content_digest(landing_dir: Path, truth_dir: Path) -> str:
    """sha256 over every file's path (under l/ or t/) and content, Parquet by its rows."""
    digest = hashlib.sha256()
    for prefix, root in (("l", landing_dir), ("t", truth_dir)):
        for path in sorted(root.rglob("*")):
            if not path.is_file():
                continue
            digest.update(f"{prefix}/{path.relative_to(root)}".encode())
            if path.suffix == ".parquet":
                rows = pq.read_table(path).to_pylist()
                digest.update(json.dumps(rows, default=str, sort_keys=True).encode())
            else:
                digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def profiles_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same seed under both profiles: {profile: root with l/ (landing) and t/ (truth)}."""
    root = tmp_path_factory.mktemp("profiles")
    for noise in ("default", "hostile"):
        report = generate_catalogue(
            CATALOGUE,
            root / noise / "l",
            root / noise / "t",
            people=HOSTILE_PEOPLE,
            seed=3,
            deliveries=2,
            start=START,
            noise=noise,
        )
        assert report.noise == noise
    return {noise: root / noise for noise in ("default", "hostile")}


def _truth(root: Path) -> pl.DataFrame:
    return pl.read_parquet(root / "t" / "record_truth.parquet")


def _added_noise(profiles_run: dict[str, Path]) -> pl.DataFrame:
    """Per record of the first delivery: the tags the hostile profile added to default's."""
    keys = ["record_key", "delivery_id"]
    default = _truth(profiles_run["default"]).select(*keys, pl.col("noise").alias("base"))
    return (
        _truth(profiles_run["hostile"])
        .join(default, on=keys, how="inner", validate="1:1")
        .filter(pl.col("delivery_id") == D0)
        .with_columns(pl.col("noise").list.set_difference("base").alias("added"))
    )


def test_default_profile_output_is_unchanged(run, tmp_path: Path) -> None:
    assert run[2].noise == "default"
    assert content_digest(run[0], run[1]) == DEFAULT_DIGEST_1500
    kwargs = {"people": 400, "seed": 11, "deliveries": 2, "start": START}
    report = generate_catalogue(
        CATALOGUE, tmp_path / "a" / "l", tmp_path / "a" / "t", noise="default", **kwargs
    )
    assert report.rows == DEFAULT_ROWS_400
    assert content_digest(tmp_path / "a" / "l", tmp_path / "a" / "t") == DEFAULT_DIGEST_400
    generate_catalogue(CATALOGUE, tmp_path / "b" / "l", tmp_path / "b" / "t", **kwargs)
    assert all_files(tmp_path / "a") == all_files(tmp_path / "b")  # noise="default" is the default


def test_hostile_profile_is_deterministic_per_seed(tmp_path: Path) -> None:
    kwargs = {"people": 400, "deliveries": 2, "start": START}
    for name, seed, noise in (("a", 11, "hostile"), ("b", 11, "hostile"), ("c", 12, "hostile")):
        generate_catalogue(
            CATALOGUE,
            tmp_path / name / "l",
            tmp_path / name / "t",
            seed=seed,
            noise=noise,
            **kwargs,
        )
    generate_catalogue(CATALOGUE, tmp_path / "d" / "l", tmp_path / "d" / "t", seed=11, **kwargs)
    a, b, c, d = (all_files(tmp_path / x) for x in "abcd")
    assert a == b
    assert a.keys() == c.keys() == d.keys()
    assert all(a[k] != c[k] for k in a if k.startswith("l/"))
    # Under hostile, every person dataset differs from default; call records carry no identity.
    changed = {k.split("/")[1] for k in a if k.startswith("l/") and a[k] != d[k]}
    assert changed == PERSON_DATASETS


def test_unknown_profile_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"^unknown noise profile 'nope': choose one of default, hostile$"
    ):
        generate_catalogue(CATALOGUE, tmp_path / "l", tmp_path / "t", people=100, noise="nope")
    assert not (tmp_path / "l").exists() and not (tmp_path / "t").exists()


def test_profiles_are_one_frozen_dataclass_of_rates() -> None:
    assert set(PROFILES) == {"default", "hostile"}
    assert not PROFILES["default"].active and PROFILES["hostile"].active
    assert set(PROFILES["default"].rates().values()) == {0.0}
    assert all(0 < r < 0.1 for r in PROFILES["hostile"].rates().values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILES["hostile"].ocr = 0.5  # type: ignore[misc]


def test_hostile_truth_stays_exact(profiles_run, contracts) -> None:
    """Same records, same people, same clean values as default: only the tags differ."""
    default, hostile = _truth(profiles_run["default"]), _truth(profiles_run["hostile"])
    assert default.drop("noise").equals(hostile.drop("noise"))
    for name, contract in contracts.items():
        for delivery in (D0, D1):
            path = profiles_run["hostile"] / "l" / name / delivery / f"{name}.{contract.extension}"
            keys = ids(read_landing(contract, path), contract)
            expected = hostile.filter(
                (pl.col("dataset") == name) & (pl.col("delivery_id") == delivery)
            )["record_key"]
            assert keys.n_unique() == keys.len() == expected.len()
            assert set(keys.to_list()) == set(expected.to_list()), name


def _subscribers(profiles_run) -> pl.DataFrame:
    """Hostile subscriber records of the first delivery beside their truth and people rows."""
    contract = load_contracts(CATALOGUE)["subscriber_records"]
    path = profiles_run["hostile"] / "l" / "subscriber_records" / D0 / "subscriber_records.csv"
    people = pl.read_parquet(profiles_run["hostile"] / "t" / "people.parquet").select(
        "person_id", pl.col("email").alias("clean_email"), pl.col("middle_names").alias("clean_mid")
    )
    records = read_landing(contract, path).with_columns(
        ids(read_landing(contract, path), contract).alias("record_key")
    )
    truth = _truth(profiles_run["hostile"]).filter(pl.col("delivery_id") == D0)
    name = F.ascii_upper(pl.col("subscriber_name")).str.split(" ")
    return (
        records.join(
            truth.rename(
                {
                    c: f"clean_{c}"
                    for c in truth.columns
                    if c not in ("record_key", "person_id", "noise")
                }
            ),
            on="record_key",
        )
        .join(people, on="person_id")
        .with_columns(
            name.list.first().alias("given"),
            name.list.last().alias("family"),
            pl.col("date_of_birth").str.to_date("%m/%d/%Y").alias("dob"),
            pl.col("postcode").str.to_uppercase().str.replace_all(" ", "").alias("pc"),
            pl.col("clean_postcode").str.replace_all(" ", "").alias("clean_pc"),
            pl.col("msisdn").str.slice(-10).alias("msisdn10"),
            pl.col("clean_phone").str.slice(-10).alias("clean_msisdn10"),
        )
    )


def _tagged(tags: set[str] | frozenset[str]) -> pl.Expr:
    return pl.col("noise").list.eval(pl.element().is_in(sorted(tags))).list.any()


def test_hostile_untagged_values_are_clean(profiles_run) -> None:
    """A field no content tag names carries the clean value: every corruption is recorded."""
    sr = _subscribers(profiles_run)
    assert sr.height > 500
    checks = {
        "given_name": pl.col("given") == pl.col("clean_given_name"),
        "family_name": pl.col("family") == pl.col("clean_family_name"),
        "date_of_birth": pl.col("dob") == pl.col("clean_date_of_birth"),
        "postcode": pl.col("pc") == pl.col("clean_pc"),
        "phone": pl.col("msisdn10") == pl.col("clean_msisdn10"),
    }
    for field, check in checks.items():
        clean = sr.filter(~_tagged(CONTENT_NOISE[field]))
        assert clean.height > 0.8 * sr.height, field
        assert clean.select(check.fill_null(False).all()).item(), field
    untouched = sr.filter(~_tagged({"email_missing", "name_and_town_only"}))
    assert (untouched["email"].eq_missing(untouched["clean_email"])).all()


def test_hostile_corruptions_are_what_their_tags_say(profiles_run) -> None:
    sr = _subscribers(profiles_run)
    people = pl.read_parquet(profiles_run["hostile"] / "t" / "people.parquet")
    given_names = set(people["given_name"]) | set(people["family_name"])
    postcodes = set(people["postcode"].str.replace_all(" ", ""))
    mobiles = set(people["mobile_e164"].drop_nulls().str.slice(-10))
    dobs = set(people["date_of_birth"])

    def only(tag: str, *unless: str) -> pl.DataFrame:
        hit = sr.filter(pl.col("noise").list.contains(tag) & ~_tagged(set(unless)))
        assert hit.height > 0, tag
        return hit

    names_noise = ("typo_given_name", "nickname", "swapped_names", "ocr_given_name")
    replaced = only("given_name_replaced", *names_noise)
    assert (replaced["given"] != replaced["clean_given_name"]).all()
    assert set(replaced["given"]) <= given_names
    ocr = only("ocr_given_name", "typo_given_name", "nickname", "swapped_names")
    assert (ocr["given"] != ocr["clean_given_name"]).all()
    length = ocr["given"].str.len_chars().cast(pl.Int64)
    assert ((length - ocr["clean_given_name"].str.len_chars().cast(pl.Int64)).abs() <= 1).all()
    swapped = only(
        "swapped_names",
        "typo_given_name",
        "typo_family_name",
        "nickname",
        "maiden_name",
        "given_name_replaced",
        "ocr_given_name",
        "ocr_family_name",
    )
    assert (swapped["given"] == swapped["clean_family_name"]).all()
    assert (swapped["family"] == swapped["clean_given_name"]).all()

    dob_noise = ("dob_day_month_swapped",)
    moved = only("dob_replaced", *dob_noise)
    assert (moved["dob"] != moved["clean_date_of_birth"]).all() and set(moved["dob"]) <= dobs
    digits = only("dob_digits_wrong", *dob_noise)
    a = digits["dob"].dt.strftime("%Y%m%d").to_list()
    b = digits["clean_date_of_birth"].dt.strftime("%Y%m%d").to_list()
    assert all(
        1 <= sum(x != y for x, y in zip(u, v, strict=True)) <= 3 for u, v in zip(a, b, strict=True)
    )
    year = only("dob_year_wrong", *dob_noise)
    off = (year["dob"].dt.year() - year["clean_date_of_birth"].dt.year()).abs()
    assert ((off >= 1) & (off <= 10)).all()
    assert (year["dob"].dt.month() == year["clean_date_of_birth"].dt.month()).all()

    pc = only("postcode_replaced", "stale_address")
    assert (pc["pc"] != pc["clean_pc"]).all() and set(pc["pc"]) <= postcodes
    pc_ocr = only("ocr_postcode", "stale_address")
    assert (pc_ocr["pc"] != pc_ocr["clean_pc"]).all()
    length = pc_ocr["pc"].str.len_chars().cast(pl.Int64)
    assert ((length - pc_ocr["clean_pc"].str.len_chars().cast(pl.Int64)).abs() <= 1).all()
    phone = only("phone_replaced")
    assert (phone["msisdn10"] != phone["clean_msisdn10"]).all() and set(
        phone["msisdn10"]
    ) <= mobiles

    for tag, column in (
        ("dob_missing", "date_of_birth"),
        ("postcode_missing", "postcode"),
        ("phone_missing", "msisdn"),
        ("email_missing", "email"),
    ):
        assert only(tag)[column].null_count() == only(tag).height, tag
    sparse = only("name_and_town_only")
    for column in ("date_of_birth", "address_line", "postcode", "msisdn", "email", "imei"):
        assert sparse[column].null_count() == sparse.height, column
    assert (
        sparse["town"].null_count() == 0
        and (sparse["subscriber_name"].str.count_matches(" ") == 1).all()
    )


def test_hostile_error_kinds_occur_at_their_rates(profiles_run) -> None:
    """Each kind's share of the first delivery's records that carry the field is near its rate."""
    rates = PROFILES["hostile"]
    people = pl.read_parquet(profiles_run["hostile"] / "t" / "people.parquet").select(
        "person_id", pl.col("middle_names").alias("has_middle"), pl.col("email").alias("has_email")
    )
    added = _added_noise(profiles_run).join(people, on="person_id")
    person = pl.col("dataset").is_in(sorted(PERSON_DATASETS))
    kept = ~pl.col("added").list.contains("name_and_town_only")

    def base_has(tag: str) -> pl.Expr:
        return pl.col("base").list.contains(tag)

    def field_of(datasets: set[str]) -> pl.Expr:
        return pl.col("dataset").is_in(sorted(datasets)) & kept

    expected = {
        "name_and_town_only": (field_of(WITH_TOWN) | ~kept, rates.name_and_town_only),
        "given_name_replaced": (person, rates.given_name_replaced),
        "ocr_given_name": (person, rates.ocr),
        "ocr_family_name": (person, rates.ocr),
        "swapped_names": (person & ~base_has("swapped_names"), rates.names_swapped),
        "dob_replaced": (field_of(WITH_DOB) & ~base_has("dob_missing"), rates.dob_replaced),
        "dob_digits_wrong": (field_of(WITH_DOB) & ~base_has("dob_missing"), rates.dob_digits_wrong),
        "dob_year_wrong": (field_of(WITH_DOB) & ~base_has("dob_missing"), rates.dob_year_wrong),
        "dob_missing": (field_of(WITH_DOB) & ~base_has("dob_missing"), rates.field_missing),
        "postcode_replaced": (
            field_of(WITH_TOWN) & ~base_has("current_address_missing"),
            rates.postcode_replaced,
        ),
        "ocr_postcode": (field_of(WITH_TOWN) & ~base_has("current_address_missing"), rates.ocr),
        "postcode_missing": (
            field_of(WITH_TOWN) & ~base_has("current_address_missing"),
            rates.field_missing,
        ),
        "phone_replaced": (
            field_of(WITH_PHONE) & pl.col("phone").is_not_null(),
            rates.phone_replaced,
        ),
        "phone_missing": (
            field_of(WITH_PHONE) & pl.col("phone").is_not_null(),
            rates.field_missing,
        ),
        "email_missing": (
            field_of({"subscriber_records"})
            & pl.col("has_email").is_not_null()
            & ~base_has("email_missing"),
            rates.field_missing,
        ),
        "middle_name_missing": (
            field_of(WITH_MIDDLE)
            & pl.col("has_middle").is_not_null()
            & ~base_has("middle_name_missing"),
            rates.field_missing,
        ),
    }
    seen = set(added["added"].explode().drop_nulls())
    assert seen == set(expected), seen ^ set(expected)
    for tag, (eligible, rate) in expected.items():
        pool = added.filter(eligible)
        hits = pool["added"].list.contains(tag).sum()
        assert pool.height * rate >= 30, tag  # enough records to tell a rate
        share = hits / pool.height
        assert 0.6 * rate < share < 1.4 * rate, (tag, pool.height, hits, share, rate)


def test_content_noise_covers_the_evaluation_and_every_hostile_tag(profiles_run) -> None:
    for field, tags in EVALUATED_CONTENT_NOISE.items():
        assert tags <= CONTENT_NOISE[field], field
    hostile = set(_added_noise(profiles_run)["added"].explode().drop_nulls())
    unmeasured = {"middle_name_missing", "email_missing"}  # fields the report does not measure
    assert hostile - unmeasured <= set().union(*CONTENT_NOISE.values())


def test_generate_command_takes_a_noise_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(CATALOGUE))
    runner = CliRunner()
    result = runner.invoke(
        app, ["generate", "--people", "300", "--noise", "nope"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "lakehouse: unknown noise profile 'nope': choose one of default, hostile"
    ]
    assert not (tmp_path / "home" / "landing").exists() or not any(
        (tmp_path / "home" / "landing").iterdir()
    )
    result = runner.invoke(
        app, ["generate", "--people", "300", "--noise", "hostile"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "noise profile: hostile" in result.output
    truth = pl.read_parquet(tmp_path / "home" / "truth" / "record_truth.parquet")
    assert truth["noise"].list.contains("name_and_town_only").any()
