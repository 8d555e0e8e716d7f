"""Destruction leaves no recoverable bytes: no Delta version, no file, no warehouse table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from deltalake import DeltaTable
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import copy_lakehouse, deliver
from tests.pipeline import run_everything
from transforms.config import Environment
from transforms.delta_io import read_table
from transforms.governance.destruction import apply_retention, delta_tables, destroy

pytestmark = pytest.mark.slow

SENTINEL = {
    "nominal_id": "ROCU-SENTINEL-1",
    "nominal_name": "QUIXOTICMARMALADE, Zebedee",
    "aliases": ["Zeb Quixoticmarmalade"],
    "date_of_birth": "1977-07-07",
    "gender": "Male",
    "addresses": ["7 Quixoticmarmalade Lane, Leeds LS7 7QQ"],
    "phones": ["07911 777777"],
    "warning_markers": ["WEAPONS"],
}
NEEDLES = [b"quixoticmarmalade", b"zebedee"]


def _files_containing(root: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for file in root.rglob("*"):
        if file.is_file():
            data = file.read_bytes().lower()
            if any(n in data for n in needles):
                hits.append(str(file.relative_to(root)))
    return sorted(hits)


@pytest.fixture(scope="module")
def sentinel_base(
    built: Environment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Environment]:
    """The shared lakehouse plus one partner nominal with a unique name, run end to end once."""
    with pytest.MonkeyPatch.context() as patch:
        env = copy_lakehouse(built, tmp_path_factory.mktemp("sentinel") / "lakehouse", patch)
        deliver(
            env,
            "rocu_nominals",
            "2026-11-01",
            {"nominals.jsonl": (json.dumps(SENTINEL) + "\n").encode()},
        )
        report = run_everything(env)
        assert report.success, report.failures
        persons = read_table(env, "silver.person_records")
        assert "rocu_nominals:ROCU-SENTINEL-1" in persons["record_key"].to_list()
        assert _files_containing(env.home, NEEDLES)  # the value really is spread around first
        yield env


@pytest.fixture()
def lake_with_sentinel(
    sentinel_base: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Environment:
    return copy_lakehouse(sentinel_base, tmp_path / "lakehouse", monkeypatch)


def test_destroyed_record_leaves_no_bytes_anywhere(lake_with_sentinel: Environment) -> None:
    env = lake_with_sentinel
    certificate = destroy(
        env,
        "rocu_nominals",
        record_keys=["rocu_nominals:ROCU-SENTINEL-1"],
        reason="test: court order",
        user="steward",
    )
    assert _files_containing(env.home, NEEDLES) == []
    for path in delta_tables(env):
        table = DeltaTable(str(path))
        frame = pl.from_arrow(table.to_pyarrow_table())
        text = str(frame.rows()).lower()
        assert "quixoticmarmalade" not in text, path
    for label in certificate.log.versions_purged:  # time travel to a purged version reads nothing
        with pytest.raises(Exception):  # noqa: B017 - delta-rs raises several error types here
            DeltaTable(str(env.delta.joinpath(*label.split("."))), version=0).to_pyarrow_table()
    con = duckdb.connect(str(env.warehouse), read_only=True)
    try:
        for schema, name in con.sql(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall():
            rows = con.sql(f'select * from "{schema}"."{name}"').fetchall()
            assert "quixoticmarmalade" not in str(rows).lower(), f"{schema}.{name}"
    finally:
        con.close()
    record = read_table(env, "ops.destructions").row(-1, named=True)
    assert record["user"] == "steward" and record["reason"] == "test: court order"
    assert record["record_keys"] == ["rocu_nominals:ROCU-SENTINEL-1"]
    rows = json.loads(record["rows_per_table"])
    assert rows["bronze.rocu_nominals"] == 1 and rows["silver.person_records"] == 1
    assert len(record["removed_files"]) == len(record["removed_sha256"]) > 0
    assert certificate.log.versions_purged["bronze.rocu_nominals"]


def test_retention_destroys_rows_older_than_the_dataset_allows(
    lake_with_sentinel: Environment,
) -> None:
    env = lake_with_sentinel
    before = read_table(env, "bronze.rocu_nominals").height
    assert apply_retention(env, datetime.now(UTC)) == []  # nothing is old yet
    later = datetime.now(UTC) + timedelta(days=731)  # rocu_nominals keeps records 730 days
    certificates = [c for c in apply_retention(env, later) if c.dataset == "rocu_nominals"]
    assert certificates and read_table(env, "bronze.rocu_nominals").height == 0 < before
    assert _files_containing(env.home / "landing" / "rocu_nominals", NEEDLES) == []


def test_destroy_command_records_a_certificate(lake_with_sentinel: Environment) -> None:
    result = CliRunner().invoke(
        app,
        [
            "destroy",
            "--dataset",
            "rocu_nominals",
            "--record-key",
            "rocu_nominals:ROCU-SENTINEL-1",
            "--reason",
            "test",
            "--user",
            "steward",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "rocu_nominals" in result.output
    refused = CliRunner().invoke(
        app, ["destroy", "--dataset", "nope", "--reason", "r", "--user", "u"]
    )
    assert refused.exit_code != 0
