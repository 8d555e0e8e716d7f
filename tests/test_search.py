"""Bulk search: subjects normalised like resolution input, matched with the approved model, audited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import Result
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import CATALOGUE, copy_lakehouse
from transforms.catalogue import CatalogueError
from transforms.config import Environment
from transforms.delta_io import read_path, read_table
from transforms.governance.clearance import restrict_for
from transforms.governance.search_ledger import SEARCH_LOG, monthly_output
from transforms.resolve.features import name_variants
from transforms.resolve.pipeline import silver_features
from transforms.resolve.search import (
    RESULT_SCHEMA,
    read_subjects,
    search,
    subjects_to_features,
)
from transforms.users import UnknownUser, get_user, load_users

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lakehouse(
    built: Environment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Environment]:
    """A private copy of the shared small lakehouse: searches write to its log."""
    target = tmp_path_factory.mktemp("search") / "lakehouse"
    with pytest.MonkeyPatch.context() as patch:
        yield copy_lakehouse(built, target, patch)


@pytest.fixture()
def cli_env(lakehouse: Environment, monkeypatch: pytest.MonkeyPatch) -> Environment:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(lakehouse.home))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(lakehouse.catalogue_dir))
    return lakehouse


def person_entities(env: Environment) -> pl.DataFrame:
    """entity_id, person_id (truth) and entity classification for every resolved record."""
    truth = pl.read_parquet(env.truth / "record_truth.parquet").select("record_key", "person_id")
    records = read_table(env, "gold.entity_records").select("entity_id", "record_key")
    entities = read_table(env, "gold.entities").select("entity_id", "classification")
    return records.join(truth, on="record_key").join(entities, on="entity_id")


def entities_of(env: Environment, person_id: int) -> set[str]:
    """Entities holding at least one record of the person."""
    frame = person_entities(env).filter(pl.col("person_id") == person_id)
    return set(frame["entity_id"].to_list())


def resolved_people(env: Environment) -> pl.DataFrame:
    """Truth people with two or more resolved records all in one entity, with that entity."""
    per_person = (
        person_entities(env)
        .group_by("person_id")
        .agg(
            pl.len().alias("records"),
            pl.col("entity_id").n_unique().alias("entities"),
            pl.col("entity_id").first(),
            pl.col("classification").first(),
        )
    )
    people = pl.read_parquet(env.truth / "people.parquet")
    return (
        per_person.filter((pl.col("records") >= 2) & (pl.col("entities") == 1))
        .join(people, on="person_id")
        .filter(pl.col("date_of_birth").is_not_null() & pl.col("postcode").is_not_null())
        .sort("person_id")
    )


def typo(name: str) -> str:
    """Swap two letters in the middle of a name (a keying slip)."""
    i = len(name) // 2
    return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]


def nickname_of(given_name: str) -> str | None:
    """A nickname sharing the first letter (SUSAN -> SUE), so the name really is a nickname."""
    return next((v for v in name_variants(given_name) if v[0] == given_name[0]), None)


# --- subjects -----------------------------------------------------------------------------------


def test_subjects_are_shaped_like_the_resolution_input(lakehouse: Environment) -> None:
    subjects = pl.DataFrame(
        {
            "Subject_ID": ["a", "b", "c"],
            "NAME": ["Bob A Smith", "O'Neil-Jones, Mary", None],
            "date_of_birth": ["1980-01-02", "02/01/1980", None],
            "Postcode": ["ls14ab", None, "LS1 4AB"],
            "phone": [None, "07911 123456", None],
        }
    )
    features = subjects_to_features(subjects)
    records, _ = silver_features(lakehouse)
    assert features.schema == records.schema
    rows = features.to_dicts()
    assert rows[0]["unique_id"] == "subject:a"
    assert rows[0]["source_dataset"] == "search_subjects"
    assert rows[0]["classification"] == "OFFICIAL"
    assert (rows[0]["given_name"], rows[0]["family_name"]) == ("BOB", "SMITH")
    assert "ROBERT" in rows[0]["given_name_variants"]
    assert rows[0]["postcodes"] == ["LS1 4AB"] and rows[0]["phones"] is None
    assert rows[0]["documents"] is None
    assert (rows[1]["given_name"], rows[1]["family_name"]) == ("MARY", "O NEIL JONES")
    assert str(rows[1]["date_of_birth"]) == "1980-01-02" and rows[1]["birth_year"] == 1980
    assert rows[1]["phones"] == ["+447911123456"] and rows[1]["postcodes"] is None
    assert rows[2]["given_name"] is None and rows[2]["postcodes"] == ["LS1 4AB"]


def test_default_subject_id_is_the_row_number() -> None:
    features = subjects_to_features(pl.DataFrame({"name": ["Ann Lee", "Tom Hay"]}))
    assert features["unique_id"].to_list() == ["subject:1", "subject:2"]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Ann Lee", "date_of_birth": "31/02/1990"}, "date_of_birth"),
        ({"name": "Ann Lee", "postcode": "NOT A POSTCODE"}, "postcode"),
        ({"name": "Ann Lee", "phone": "12"}, "phone"),
        ({"date_of_birth": "1990-01-01"}, "name"),
    ],
)
def test_unusable_rows_are_refused_naming_row_and_field(row: dict[str, str], field: str) -> None:
    subjects = pl.DataFrame(
        [{"name": "Tom Hay"}, row], schema={c: pl.String for c in ["name", *row]}
    )
    with pytest.raises(ValueError, match=rf"row 2 .*: {field}:"):
        subjects_to_features(subjects)


def test_unknown_columns_and_bad_files_are_refused(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("nmae\nAnn Lee\n")
    with pytest.raises(ValueError, match=r"wrong.csv: unknown columns \['nmae'\]"):
        read_subjects(wrong)
    with pytest.raises(ValueError, match="not found"):
        read_subjects(tmp_path / "missing.csv")


def test_users_file_is_validated(tmp_path: Path) -> None:
    assert get_user(CATALOGUE, "junior_analyst").clearance == "OFFICIAL"
    assert {"analyst", "junior_analyst", "steward"} <= set(load_users(CATALOGUE))
    with pytest.raises(UnknownUser, match="nobody"):
        get_user(CATALOGUE, "nobody")
    (tmp_path / "users.yml").write_text(
        "users:\n  - {name: x, clearance: SECRETISH, role: analyst}\n"
    )
    with pytest.raises(CatalogueError, match=r"users.yml: users.0.clearance"):
        load_users(tmp_path)


# --- matching -----------------------------------------------------------------------------------


def test_a_typo_or_nickname_finds_the_persons_entity(lakehouse: Environment) -> None:
    people = resolved_people(lakehouse)
    nicknamed = people.filter(
        pl.col("given_name").map_elements(
            lambda g: nickname_of(g) is not None, return_dtype=pl.Boolean
        )
    ).row(0, named=True)
    typoed = people.filter(
        (pl.col("family_name").str.len_chars() >= 6)
        & (pl.col("person_id") != nicknamed["person_id"])
    ).row(0, named=True)
    nickname = nickname_of(nicknamed["given_name"])
    assert nickname is not None
    subjects = pl.DataFrame(
        {
            "subject_id": ["nick", "typo"],
            "name": [
                f"{nickname.title()} {nicknamed['family_name'].title()}",
                f"{typo(typoed['family_name'])}, {typoed['given_name'].lower()}",
            ],
            "date_of_birth": [
                nicknamed["date_of_birth"].isoformat(),
                typoed["date_of_birth"].strftime("%d/%m/%Y"),
            ],
            "postcode": [nicknamed["postcode"], typoed["postcode"].replace(" ", "")],
        }
    )
    results = search(lakehouse, subjects)
    assert results.schema == pl.Schema(RESULT_SCHEMA)
    for subject_id, person in (("nick", nicknamed), ("typo", typoed)):
        found = set(results.filter(pl.col("subject_id") == subject_id)["entity_id"].drop_nulls())
        assert person["entity_id"] in found, (subject_id, person, results)
        assert person["entity_id"] in entities_of(lakehouse, person["person_id"])
    best = results.filter(pl.col("subject_id") == "nick").row(0, named=True)
    assert best["match_probability"] >= 0.9
    assert isinstance(best["linked_entities"], list)


def test_an_unknown_subject_appears_once_unmatched(lakehouse: Environment) -> None:
    subjects = pl.DataFrame(
        {"name": ["Zebedee Quuxworth"], "date_of_birth": ["1901-02-03"], "postcode": ["ZE3 9XX"]}
    )
    results = search(lakehouse, subjects)
    assert results.height == 1
    assert results.row(0, named=True)["subject_id"] == "1"
    assert results.row(0, named=True)["entity_id"] is None


# --- audit, counts and clearance through the command line ----------------------------------------


def subject_csv(path: Path, people: list[dict[str, object]]) -> Path:
    pl.DataFrame(
        {
            "SUBJECT_ID": [str(p["person_id"]) for p in people],
            "Name": [f"{p['given_name']} {p['family_name']}" for p in people],
            "Date_Of_Birth": [p["date_of_birth"].isoformat() for p in people],  # type: ignore[union-attr]
            "postcode": [p["postcode"] for p in people],
        }
    ).write_csv(path)
    return path


def run_search(user: str, subjects: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        app,
        [
            "search",
            "--subjects",
            str(subjects),
            "--task",
            "OP-TEST-1",
            "--user",
            user,
            "--purpose",
            "test of bulk search",
            *extra,
        ],
    )


def test_search_is_logged_and_counted_monthly(cli_env: Environment, tmp_path: Path) -> None:
    people = resolved_people(cli_env).head(3).to_dicts()
    before = monthly_output(cli_env)
    searches_before = int(before["bulk_searches"].sum()) if before.height else 0
    searched_before = int(before["entities_searched"].sum()) if before.height else 0

    result = run_search("analyst", subject_csv(tmp_path / "s.csv", people), "--format", "json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert {r["subject_id"] for r in shown} == {str(p["person_id"]) for p in people}
    assert "3 subjects" in result.stderr and "withheld" in result.stderr

    log = read_path(cli_env.table_path(SEARCH_LOG))
    assert log is not None
    last = log.sort("searched_at").row(-1, named=True)
    assert (last["task"], last["user"], last["purpose"], last["subjects"]) == (
        "OP-TEST-1",
        "analyst",
        "test of bulk search",
        3,
    )
    assert last["entities_matched"] >= 3 and last["links_found"] >= 0 and last["seconds"] > 0
    after = monthly_output(cli_env)
    assert int(after["bulk_searches"].sum()) == searches_before + 1
    assert int(after["entities_searched"].sum()) == searched_before + 3
    assert set(after.columns) == {
        "month",
        "bulk_searches",
        "entities_searched",
        "entities_matched",
        "links_found",
    }
    con = duckdb.connect(str(cli_env.warehouse), read_only=True)
    try:
        warehouse = con.execute(
            "select sum(bulk_searches) from gold.monthly_search_output"
        ).fetchone()
    finally:
        con.close()
    assert warehouse is not None and int(warehouse[0]) == searches_before + 1


def rows(frame: pl.DataFrame | None) -> int:
    return 0 if frame is None else frame.height


def test_unknown_user_and_empty_purpose_are_refused(cli_env: Environment, tmp_path: Path) -> None:
    subjects = subject_csv(tmp_path / "s.csv", resolved_people(cli_env).head(1).to_dicts())
    log_before = read_path(cli_env.table_path(SEARCH_LOG))
    refused = run_search("mallory", subjects)
    assert refused.exit_code != 0
    assert "unknown user 'mallory'" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    empty = CliRunner().invoke(
        app,
        [
            "search",
            "--subjects",
            str(subjects),
            "--task",
            "T",
            "--user",
            "analyst",
            "--purpose",
            " ",
        ],
    )
    assert empty.exit_code != 0 and "--purpose" in empty.stderr
    log_after = read_path(cli_env.table_path(SEARCH_LOG))
    assert rows(log_after) == rows(log_before)  # refused searches are not run


def test_junior_analyst_has_secret_entities_withheld(cli_env: Environment, tmp_path: Path) -> None:
    people = resolved_people(cli_env)
    secret = people.filter(pl.col("classification") == "SECRET").head(2).to_dicts()
    official = people.filter(pl.col("classification") == "OFFICIAL").head(1).to_dicts()
    assert secret and official
    subjects = subject_csv(tmp_path / "s.csv", secret + official)

    junior = run_search("junior_analyst", subjects, "--format", "json")
    assert junior.exit_code == 0, junior.output
    shown = json.loads(junior.stdout)
    shown_ids = {r["entity_id"] for r in shown}
    assert not {p["entity_id"] for p in secret} & shown_ids
    assert official[0]["entity_id"] in shown_ids
    assert all(r["classification"] in (None, "OFFICIAL") for r in shown)
    assert {r["subject_id"] for r in shown} == {str(p["person_id"]) for p in secret + official}
    withheld = int(junior.stderr.split(" withheld")[0].rsplit(" ", 1)[-1])
    assert withheld >= 2

    senior = run_search("analyst", subjects, "--format", "json")
    assert senior.exit_code == 0
    assert {p["entity_id"] for p in secret} <= {r["entity_id"] for r in json.loads(senior.stdout)}
    assert " 0 withheld" in senior.stderr

    # Links to entities above the clearance are not disclosed either.
    results = search(cli_env, read_subjects(subjects))
    visible, _ = restrict_for(cli_env, results, "OFFICIAL")
    entities = read_table(cli_env, "gold.entities")
    secret_ids = set(entities.filter(pl.col("classification") == "SECRET")["entity_id"])
    linked = {e for row in visible["linked_entities"].drop_nulls().to_list() for e in row}
    assert not linked & secret_ids
