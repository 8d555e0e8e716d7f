"""Partner cuts by tasking: searches record the entities they matched, a cut can keep only those."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from click.testing import Result
from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.defs.governance.cuts import build_cut_defs
from orchestration.resources import LakehouseResource
from tests.conftest import copy_lakehouse, open_test_task
from transforms.catalogue import CatalogueError
from transforms.config import Environment
from transforms.delta_io import read_path, read_table
from transforms.governance import search_ledger
from transforms.governance.cuts import CutRefused, disclosures, make_cut, verify_cut
from transforms.governance.partners import Partner, load_partners, parse_partner
from transforms.governance.search import audited_search
from transforms.governance.search_ledger import (
    SEARCH_LOG,
    SEARCH_MATCHES,
    search_matches,
    task_matches,
)

pytestmark = pytest.mark.slow

WITHIN_SECRET = ("OFFICIAL", "SECRET")


@pytest.fixture(scope="module")
def lake(built: Environment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    """A private copy of the built lakehouse: searches and cuts write to its ledgers."""
    with pytest.MonkeyPatch.context() as patch:
        env = copy_lakehouse(built, tmp_path_factory.mktemp("cuts_by_task") / "lakehouse", patch)
        for task in ("T1", "T2", "T-JUNIOR", "T-BROKEN", "T-NOTHING"):
            open_test_task(env, task)
        yield env


@pytest.fixture()
def cli_env(lake: Environment, monkeypatch: pytest.MonkeyPatch) -> Environment:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(lake.home))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(lake.catalogue_dir))
    return lake


def candidates(env: Environment) -> pl.DataFrame:
    """Entities a name and date of birth find: several records, within SECRET, a unique key."""
    entities = read_table(env, "gold.entities")
    key = ["given_name", "family_name", "date_of_birth"]
    unique = entities.group_by(key).len().filter(pl.col("len") == 1).drop("len")
    return (
        entities.filter(
            (pl.col("record_count") >= 2)
            & pl.col("classification").is_in(WITHIN_SECRET)
            & pl.all_horizontal(pl.col(c).is_not_null() for c in key)
        )
        .join(unique, on=key, how="semi")
        .sort("entity_id")
    )


def subjects_csv(path: Path, entities: pl.DataFrame) -> Path:
    entities.select(
        pl.col("entity_id").alias("subject_id"),
        "given_name",
        "family_name",
        pl.col("date_of_birth").cast(pl.String),
    ).write_csv(path)
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def run_search(subjects: Path, task: str, user: str = "analyst") -> Result:
    return run(
        "search",
        "--subjects",
        str(subjects),
        "--task",
        task,
        "--user",
        user,
        "--purpose",
        "test of cuts by task",
        "--format",
        "json",
    )


def printed_matches(result: Result) -> set[tuple[str, str]]:
    """(subject_id, entity_id) pairs the search command showed."""
    assert result.exit_code == 0, result.output
    return {
        (r["subject_id"], r["entity_id"])
        for r in json.loads(result.stdout)
        if r["entity_id"] is not None
    }


def search_id_of(result: Result) -> str:
    return result.stderr.split("search ", 1)[1].split(":", 1)[0]


@dataclass(frozen=True)
class Searched:
    t1: set[str]  # entities shown by the T1 search
    t2: set[str]  # entities shown by the T2 search
    t1_pairs: set[tuple[str, str]]
    t2_pairs: set[tuple[str, str]]
    t1_search: str
    t2_search: str
    before: Path  # a rocu_south cut (no task) made before any search was recorded


@pytest.fixture(scope="module")
def searched(lake: Environment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searched]:
    """T1 searches two linked entities and one more; T2 an entity linked to T1's and one more."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKEHOUSE_HOME", str(lake.home))
        patch.setenv("LAKEHOUSE_CATALOGUE", str(lake.catalogue_dir))
        before = run("cut", "rocu_south")
        assert before.exit_code == 0, before.output
        pool = candidates(lake)
        ids = pool["entity_id"]
        links = read_table(lake, "gold.entity_links").filter(
            pl.col("classification").is_in(WITHIN_SECRET)
            & pl.col("entity_id_a").is_in(ids.implode())
            & pl.col("entity_id_b").is_in(ids.implode())
        )
        # a chain a - b - d: T1 gets a and b (a link inside the task), T2 gets d (linked to T1)
        chain = links.join(
            links.select(
                pl.col("entity_id_a").alias("entity_id_b"), pl.col("entity_id_b").alias("d")
            ),
            on="entity_id_b",
        ).filter(pl.col("d") != pl.col("entity_id_a"))
        assert chain.height, "the built lakehouse has no chain of three linked candidates"
        a, b, d = (
            chain.sort("entity_id_a", "entity_id_b", "d")
            .select("entity_id_a", "entity_id_b", "d")
            .row(0)
        )
        rest = pool.filter(~pl.col("entity_id").is_in([a, b, d]))
        t1_picked = pool.filter(pl.col("entity_id").is_in([a, b])).vstack(rest.slice(0, 1))
        t2_picked = pool.filter(pl.col("entity_id") == d).vstack(rest.slice(1, 1))
        folder = tmp_path_factory.mktemp("subjects")
        first = run_search(subjects_csv(folder / "t1.csv", t1_picked), "T1")
        second = run_search(subjects_csv(folder / "t2.csv", t2_picked), "T2")
        t1_pairs, t2_pairs = printed_matches(first), printed_matches(second)
        t1, t2 = {e for _, e in t1_pairs}, {e for _, e in t2_pairs}
        # each subject found its own entity (the subject id is the entity it was drawn from)
        assert set(t1_picked["entity_id"]) <= t1 and set(t2_picked["entity_id"]) <= t2
        yield Searched(
            t1,
            t2,
            t1_pairs,
            t2_pairs,
            search_id_of(first),
            search_id_of(second),
            Path(before.stdout.split("folder: ")[1].split()[0]),
        )


def cut_folder(result: Result) -> Path:
    assert result.exit_code == 0, result.output
    return Path(result.stdout.split("folder: ")[1].split()[0])


def cut_table(folder: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(folder / f"{table}.parquet")


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def disclosure_of(env: Environment, folder: Path) -> dict:
    return disclosures(env).filter(pl.col("folder") == str(folder)).row(0, named=True)


# --- the matches ledger ---------------------------------------------------------------------


def test_search_matches_are_the_entities_the_command_printed(
    lake: Environment, searched: Searched
) -> None:
    matches = read_path(lake.table_path(SEARCH_MATCHES))
    assert matches is not None
    for task, search_id, pairs in (
        ("T1", searched.t1_search, searched.t1_pairs),
        ("T2", searched.t2_search, searched.t2_pairs),
    ):
        rows = matches.filter(pl.col("search_id") == search_id)
        assert set(rows["task"]) == {task}
        assert set(zip(rows["subject_id"], rows["entity_id"], strict=True)) == pairs
        assert rows.height == len(pairs)  # one row per (subject, entity)
        assert rows["match_probability"].is_between(0, 1).all()
        log = read_table(lake, SEARCH_LOG).filter(pl.col("search_id") == search_id)
        assert rows["searched_at"].unique().to_list() == log["searched_at"].to_list()
    assert task_matches(lake, "T1").entity_ids == sorted(searched.t1)
    assert task_matches(lake, "T1").searches == [searched.t1_search]


def test_only_what_the_user_was_shown_is_recorded(cli_env: Environment, tmp_path: Path) -> None:
    pool = candidates(cli_env)
    secret = pool.filter(pl.col("classification") == "SECRET").head(1)
    official = pool.filter(pl.col("classification") == "OFFICIAL").head(1)
    result = run_search(
        subjects_csv(tmp_path / "s.csv", secret.vstack(official)), "T-JUNIOR", "junior_analyst"
    )
    shown = printed_matches(result)
    recorded = read_table(cli_env, SEARCH_MATCHES).filter(
        pl.col("search_id") == search_id_of(result)
    )
    assert set(zip(recorded["subject_id"], recorded["entity_id"], strict=True)) == shown
    assert secret["entity_id"][0] not in set(recorded["entity_id"])
    assert official["entity_id"][0] in set(recorded["entity_id"])


def test_matches_without_a_log_row_are_never_read(
    cli_env: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Matches are written before the log row; if the log append fails, no reader counts them."""
    written = search_ledger.append_frame

    def log_fails(env: Environment, table: str, frame: pl.DataFrame, *, run_id: str) -> int:
        if table == SEARCH_LOG:
            raise OSError("disk full")
        return written(env, table, frame, run_id=run_id)

    monkeypatch.setattr(search_ledger, "append_frame", log_fails)
    subjects = subjects_csv(tmp_path / "s.csv", candidates(cli_env).head(1))
    with pytest.raises(OSError, match="disk full"):
        audited_search(
            cli_env, subjects, task="T-BROKEN", user="analyst", purpose="p", search_id="broken"
        )
    orphans = read_table(cli_env, SEARCH_MATCHES).filter(pl.col("search_id") == "broken")
    assert orphans.height >= 1  # written first...
    assert task_matches(cli_env, "T-BROKEN").empty  # ...but reached only through the log


def test_search_matches_rows_follow_the_one_schema() -> None:
    from datetime import UTC, datetime

    shown = pl.DataFrame(
        {
            "subject_id": ["s1", "s1", "s2", "s3"],
            "entity_id": ["e1", "e1", "e2", None],
            "match_probability": [0.91, 0.97, 0.99, None],
        }
    )
    rows = search_matches(shown, search_id="x", task="T", searched_at=datetime.now(UTC))
    assert rows.schema == pl.DataFrame(search_ledger.MATCHES_SCHEMA.empty_table()).schema
    assert rows.select("subject_id", "entity_id", "match_probability").rows() == [
        ("s1", "e1", 0.97),
        ("s2", "e2", 0.99),
    ]


# --- cuts by task ---------------------------------------------------------------------------


def test_a_cut_for_a_task_holds_exactly_its_matched_entities(
    cli_env: Environment, searched: Searched
) -> None:
    folder = cut_folder(run("cut", "rocu_south", "--task", "T1"))
    assert verify_cut(folder) == []
    entities = cut_table(folder, "gold.entities")
    assert set(entities["entity_id"]) == searched.t1
    assert entities.height == len(searched.t1)
    assert not set(entities["entity_id"]) & (searched.t2 - searched.t1)

    # links: exactly the untasked cut's links between two T1 entities, none reaching T2's
    links = cut_table(folder, "gold.entity_links")
    everything = cut_table(searched.before, "gold.entity_links")
    inside = everything.filter(
        pl.col("entity_id_a").is_in(list(searched.t1))
        & pl.col("entity_id_b").is_in(list(searched.t1))
    )
    assert links.height >= 1
    assert links.sort(links.columns).equals(inside.sort(inside.columns))
    named = set(links["entity_id_a"]) | set(links["entity_id_b"])
    assert named <= searched.t1

    row = disclosure_of(cli_env, folder)
    assert row["task"] == "T1" and row["rows"] == entities.height + links.height
    written = manifest(folder)
    assert written["task"] == "T1"
    assert written["task_searches"] == [searched.t1_search]
    assert written["task_entities"] == len(searched.t1)
    assert {SEARCH_LOG, SEARCH_MATCHES} <= set(written["versions_read"])
    assert "note" not in written


def test_a_cut_without_a_task_is_unchanged(cli_env: Environment, searched: Searched) -> None:
    folder = cut_folder(run("cut", "rocu_south"))
    for table in ("gold.entities", "gold.entity_links"):
        now, before = cut_table(folder, table), cut_table(searched.before, table)
        assert now.sort(now.columns).equals(before.sort(before.columns)), table
    assert cut_table(folder, "gold.entities").height > len(searched.t1 | searched.t2)
    assert disclosure_of(cli_env, folder)["task"] is None
    assert disclosure_of(cli_env, searched.before)["task"] is None
    written = manifest(folder)
    assert written["task"] is None and written["task_searches"] is None
    assert SEARCH_MATCHES not in written["versions_read"]


def test_a_task_with_no_matches_gives_an_empty_cut_with_a_note(
    cli_env: Environment, searched: Searched
) -> None:
    result = run("cut", "rocu_south", "--task", "T-NOTHING")
    folder = cut_folder(result)
    assert "task T-NOTHING has no recorded search matches" in result.stderr
    assert all(cut_table(folder, t).height == 0 for t in ("gold.entities", "gold.entity_links"))
    assert "no recorded search matches" in manifest(folder)["note"]
    row = disclosure_of(cli_env, folder)
    assert row["task"] == "T-NOTHING" and row["rows"] == 0


def test_record_tables_keep_the_tasks_entities_records(
    lake: Environment, searched: Searched
) -> None:
    partner = Partner.model_validate(
        {
            "name": "records_partner",
            "title": "Records",
            "clearance": "SECRET",
            "purpose": "Testing",
            "agreement": "ISA-TEST",
            "schedule": "manual",
            "task": "T1",
            "tables": [
                {
                    "table": "silver.person_records",
                    "max_classification": "SECRET",
                    "columns": ["record_key", "family_name"],
                }
            ],
        }
    )
    cut = make_cut(lake, partner, "records-t1")
    records = cut_table(cut.folder, "silver.person_records")
    members = read_table(lake, "gold.entity_records").filter(
        pl.col("entity_id").is_in(list(searched.t1))
    )
    silver = read_table(lake, "silver.person_records").filter(
        pl.col("classification").is_in(WITHIN_SECRET)
    )
    expected = set(members["record_key"]) & set(silver["record_key"])
    assert expected and set(records["record_key"]) == expected
    assert cut.task == "T1" and "gold.entity_records" in cut.versions_read


def test_a_table_with_no_entity_column_is_refused_under_a_task(lake: Environment) -> None:
    generic = read_path(lake.table_path("gold.generic_values"))
    assert generic is not None and not {"entity_id", "record_key"} & set(generic.columns)
    partner = Partner.model_validate(
        {
            "name": "generic_partner",
            "title": "Generic",
            "clearance": "SECRET",
            "purpose": "Testing",
            "agreement": "ISA-TEST",
            "schedule": "manual",
            "tables": [
                {
                    "table": "gold.generic_values",
                    "max_classification": "SECRET",
                    "columns": ["identifier_kind", "value"],
                }
            ],
        }
    )
    make_cut(lake, partner, "generic-no-task")  # without a task it is an ordinary cut
    with pytest.raises(CutRefused, match="cannot be limited to task T1's entities"):
        make_cut(lake, partner, "generic-t1", task="T1")
    assert not (lake.cuts / "generic_partner" / "generic-t1").exists()


# --- the partner file's task ----------------------------------------------------------------


def tasked_catalogue(lake: Environment, tmp_path: Path, task: str) -> Path:
    """The catalogue with rocu_south's agreement naming `task`."""
    catalogue = tmp_path / "catalogue"
    (catalogue / "partners").mkdir(parents=True)
    for path in lake.catalogue_dir.glob("*.yml"):
        (catalogue / path.name).write_bytes(path.read_bytes())
    south = (lake.catalogue_dir / "partners" / "rocu_south.yml").read_text()
    (catalogue / "partners" / "rocu_south.yml").write_text(f"{south}task: {task}\n")
    return catalogue


def test_the_partner_files_task_limits_the_scheduled_cut(
    lake: Environment, searched: Searched, tmp_path: Path
) -> None:
    south = load_partners(tasked_catalogue(lake, tmp_path, "T2"))["rocu_south"]
    assert south.task == "T2"
    defs = build_cut_defs([south])
    result = dg.materialize(
        list(defs.assets or []),
        resources={
            "lakehouse": LakehouseResource(
                home=str(lake.home), catalogue_dir=str(lake.catalogue_dir)
            )
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["task"].value == "T2"
    folder = Path(event.materialization.metadata["folder"].value)
    assert set(cut_table(folder, "gold.entities")["entity_id"]) == searched.t2
    assert disclosure_of(lake, folder)["task"] == "T2"


def test_a_command_line_task_other_than_the_agreements_is_refused(
    lake: Environment, searched: Searched, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(lake.home))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(tasked_catalogue(lake, tmp_path, "T1")))
    before = disclosures(lake).height
    refused = run("cut", "rocu_south", "--task", "T2")
    assert refused.exit_code != 0
    assert "cut for rocu_south refused" in refused.stderr and "'T1'" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert disclosures(lake).height == before
    same = cut_folder(run("cut", "rocu_south", "--task", "T1"))
    assert set(cut_table(same, "gold.entities")["entity_id"]) == searched.t1


@pytest.mark.parametrize("task", ["''", "' T1'"])
def test_a_blank_task_in_a_partner_file_is_refused_naming_the_key(task: str) -> None:
    raw = {
        "name": "p",
        "title": "P",
        "clearance": "SECRET",
        "purpose": "p",
        "agreement": "a",
        "schedule": "manual",
        "task": task.strip("'"),
        "tables": [
            {"table": "gold.entities", "max_classification": "SECRET", "columns": ["entity_id"]}
        ],
    }
    with pytest.raises(CatalogueError, match=r"p.yml: task:"):
        parse_partner(raw, "p.yml")
