"""When the ER model is trained, why (ops.er_models), and what a candidate would change.

Real Splink, DuckDB and Delta on the 600-person `built` lakehouse (model v1 approved there).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import copy_lakehouse
from transforms.catalogue import CatalogueError
from transforms.config import Environment
from transforms.delta_io import read_table, write_commit
from transforms.resolve import registry as registry_module
from transforms.resolve.config import load_resolution_config
from transforms.resolve.model_diff import diff_models
from transforms.resolve.model_policy import maintain_model, training_reason
from transforms.resolve.registry import (
    REGISTRY_SCHEMA,
    approve,
    approved_model,
    registry,
    save_model,
)

pytestmark = pytest.mark.slow


def _files(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def test_retrain_setting_is_validated_in_one_line(tmp_path: Path) -> None:
    from tests.conftest import CATALOGUE

    text = (CATALOGUE / "entity_resolution.yml").read_text()
    assert "record_growth: 0.5" in text
    (tmp_path / "entity_resolution.yml").write_text(
        text.replace("record_growth: 0.5", "record_growth: -1")
    )
    with pytest.raises(CatalogueError, match=r"retrain\.record_growth: .*greater than 0") as err:
        load_resolution_config(tmp_path)
    assert "\n" not in str(err.value)
    assert load_resolution_config(CATALOGUE).retrain.record_growth == 0.5


def test_registry_without_reason_column_is_read_and_appended(env: Environment) -> None:
    old = pa.schema([f for f in REGISTRY_SCHEMA if f.name != "reason"])
    row = {
        "version": 1,
        "event": "trained",
        "path": str(env.models / "er" / "v0001"),
        "sha256": "x",
        "blocking_rules": ["r"],
        "records": 10,
        "user": "pipeline",
        "run_id": "r1",
        "recorded_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    write_commit(
        env.table_path("ops.er_models"),
        pa.Table.from_pylist([row], schema=old),
        mode="append",
        metadata={},
    )
    assert registry(env)["reason"].to_list() == [None]
    approve(env, 1, user="tester", reason="looked fine")
    book = registry(env)
    assert book["event"].to_list() == ["trained", "approved"]
    assert book["reason"].to_list() == [None, "looked fine"]


def test_a_crashed_save_leaves_nothing_that_blocks_the_next(
    env: Environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    tf = {"given_name": pl.DataFrame({"given_name": ["a"], "tf_given_name": [1.0]})}

    def crash(frame: pl.DataFrame, path: Path) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(registry_module, "write_parquet", crash)
        with pytest.raises(OSError, match="disk full"):
            save_model(env, {"a": 1}, tf, ["r"], 1, "run-1")
    assert not (env.models / "er" / "v0001").exists() and registry(env).height == 0
    (env.models / "er" / "v0001").mkdir()  # a crash after publishing, before the row
    (env.models / "er" / "v0001" / "junk").write_text("half")
    stored = save_model(env, {"a": 2}, tf, ["r"], 1, "run-2", reason="test")
    assert stored.version == 1 and json.loads(stored.settings_path.read_text()) == {"a": 2}
    assert sorted(p.name for p in stored.folder.iterdir()) == [
        "blocking_rules.json",
        "model.json",
        "tf_given_name.parquet",
    ]
    assert [p.name for p in (env.models / "er").iterdir()] == ["v0001"]
    assert registry(env)["reason"].to_list() == ["test"]


def test_diff_of_the_approved_model_with_itself_changes_nothing(
    built: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = copy_lakehouse(built, tmp_path / "lake", monkeypatch)
    before = _files(env.home)
    diff = diff_models(env, load_resolution_config(env.catalogue_dir), approved_model(env).version)
    assert _files(env.home) == before  # nothing stored changed
    entities = read_table(env, "gold.entities").height
    assert diff.records == read_table(env, "silver.person_records").height
    assert diff.approved_entities == diff.candidate_entities == diff.unchanged == entities
    assert diff.merged == diff.split == diff.records_moved == 0
    assert diff.pairwise_agreement == 1.0 and diff.sample.height == 0


def test_routine_runs_train_only_when_records_grew(
    built: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = copy_lakehouse(built, tmp_path / "lake", monkeypatch)
    config = load_resolution_config(env.catalogue_dir)
    book = registry(env)
    idle = maintain_model(env, config, "run-idle")
    assert not idle.trained and idle.version == idle.approved_version == 1
    assert "still current" in idle.note and registry(env).equals(book)

    # The approved model was trained on fewer records: silver shrinks, v2 is trained and approved.
    persons_path = env.table_path("silver.person_records")
    persons = read_table(env, "silver.person_records")
    write_commit(
        persons_path, persons.sample(fraction=0.6, seed=1).to_arrow(), mode="overwrite", metadata={}
    )
    forced = maintain_model(env, config, "run-forced", reason="test: fewer records")
    assert forced.trained and forced.version == 2 and not forced.auto_approved
    assert forced.approved_version == 1 and forced.blocking is not None
    diff = forced.diff
    assert diff is not None and diff.candidate_version == 2 and diff.records == forced.records
    assert diff.merged + diff.split + diff.unchanged == diff.approved_entities
    assert 0.0 <= diff.pairwise_agreement <= 1.0
    assert diff.pairs_agreed <= min(diff.pairs_approved, diff.pairs_candidate)
    assert diff.sample.height <= 10
    assert diff.sample.height == min(10, diff.merged + diff.split)
    assert forced.to_dict()["diff_records_moved"] == diff.records_moved
    approve(env, 2, user="tester")

    write_commit(persons_path, persons.to_arrow(), mode="overwrite", metadata={})
    full = read_table(env, "silver.person_records").height
    assert training_reason(env, config, full) is not None  # grew 67% > 50%
    grown = maintain_model(env, config, "run-grown")
    assert grown.trained and grown.version == 3 and grown.records == full
    assert grown.reason is not None and "grew" in grown.reason
    trained = registry(env).filter(pl.col("event") == "trained").sort("version")
    assert trained["reason"].to_list()[1:] == ["test: fewer records", grown.reason]
    # A candidate for this growth awaits approval: the next routine run does not train again.
    assert training_reason(env, config, full) is None
    assert not maintain_model(env, config, "run-again").trained
    assert registry(env).filter(pl.col("event") == "trained").height == 3


def test_cli_train_and_models_diff(
    built: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = copy_lakehouse(built, tmp_path / "lake", monkeypatch)
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "--reason", "new blocking review"])
    assert trained.exit_code == 0, trained.output
    assert "candidate v2 trained" in trained.stdout and "approve-model 2" in trained.stdout
    assert "records_moved" in trained.stdout
    book = registry(env)
    row = book.filter(pl.col("version") == 2).row(0, named=True)
    assert row["event"] == "trained" and row["reason"] == "new blocking review"
    assert approved_model(env).version == 1  # one is approved: the new one is a candidate

    listing = runner.invoke(app, ["models"])
    assert listing.exit_code == 0 and "new blocking review" in listing.stdout
    diff = runner.invoke(app, ["models", "diff", "2"])
    assert diff.exit_code == 0, diff.output
    assert "pairwise_agreement" in diff.stdout and "candidate v2" in diff.stdout
    unknown = runner.invoke(app, ["models", "diff", "99"])
    assert unknown.exit_code != 0
    assert unknown.stderr.strip().splitlines() == [
        "lakehouse: no trained entity-resolution model version 99"
    ]
