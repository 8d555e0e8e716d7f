"""The deployment config file and its overrides: DuckDB's memory limit and spill folder."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from tests.conftest import restore_exported_environment
from transforms.config import (
    ConfigError,
    Environment,
    export_environment,
    get_environment,
    load_config_file,
)
from transforms.duckdb_settings import connect, duckdb_settings

MEMORY_VARIABLES = ("LAKEHOUSE_MEMORY_LIMIT", "LAKEHOUSE_TEMP_DIRECTORY")


@pytest.fixture()
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty lakehouse.yml that `get_environment` reads, with no memory overrides set."""
    path = tmp_path / "conf" / "lakehouse.yml"
    path.parent.mkdir()
    path.write_text("")
    monkeypatch.setenv("LAKEHOUSE_CONFIG", str(path))
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "lakehouse"))
    for name in (*MEMORY_VARIABLES, "LAKEHOUSE_ENGINE", "LAKEHOUSE_SCRATCH"):
        monkeypatch.delenv(name, raising=False)
    return path


def lake(tmp_path: Path, memory_limit: str | None = None) -> Environment:
    return Environment(
        home=tmp_path / "lakehouse", catalogue_dir=tmp_path, memory_limit=memory_limit
    )


@pytest.mark.parametrize("value", ["4GB", "512MB", "512 MiB", "1.5gb", "2TiB", "800KB", "50%"])
def test_a_duckdb_size_is_a_memory_limit(config_file: Path, value: str) -> None:
    config_file.write_text(f"memory_limit: {value}\n")
    assert load_config_file(config_file)["memory_limit"] == value
    assert get_environment().memory_limit == value


@pytest.mark.parametrize("value", ["4", "lots", "4 gigs", "0GB", "-1GB", "150%", "12"])
def test_a_memory_limit_without_a_unit_is_refused_naming_the_file(
    config_file: Path, value: str
) -> None:
    config_file.write_text(f"memory_limit: {value}\n")
    with pytest.raises(ConfigError, match=rf"{config_file}: memory_limit .* is not a size"):
        load_config_file(config_file)


def test_unset_settings_keep_duckdbs_memory_and_spill_under_the_lakehouse(
    config_file: Path,
) -> None:
    env = get_environment()
    assert env.memory_limit is None
    assert env.temp_directory == env.scratch / "duckdb_tmp"
    assert "memory_limit" not in duckdb_settings(env)


def test_a_relative_temp_directory_is_relative_to_the_config_file(config_file: Path) -> None:
    config_file.write_text("temp_directory: spill\n")
    assert get_environment().temp_directory == config_file.parent / "spill"


def test_the_environment_overrides_the_file(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.write_text("memory_limit: 4GB\ntemp_directory: spill\n")
    monkeypatch.setenv("LAKEHOUSE_MEMORY_LIMIT", "1GiB")
    monkeypatch.setenv("LAKEHOUSE_TEMP_DIRECTORY", str(tmp_path / "elsewhere"))
    env = get_environment()
    assert (env.memory_limit, env.temp_directory) == ("1GiB", tmp_path / "elsewhere")
    monkeypatch.setenv("LAKEHOUSE_MEMORY_LIMIT", "1G1B")
    with pytest.raises(ConfigError, match="LAKEHOUSE_MEMORY_LIMIT: memory_limit '1G1B'"):
        get_environment()


def test_export_sets_the_limit_for_dbt_and_clears_an_earlier_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    restore_exported_environment(monkeypatch)
    for name in MEMORY_VARIABLES:
        monkeypatch.setenv(name, "before")  # so monkeypatch puts back what was there
    export_environment(lake(tmp_path, "2GB"))
    assert os.environ["LAKEHOUSE_MEMORY_LIMIT"] == "2GB"
    unlimited = lake(tmp_path)
    export_environment(unlimited)
    assert "LAKEHOUSE_MEMORY_LIMIT" not in os.environ
    assert os.environ["LAKEHOUSE_TEMP_DIRECTORY"] == str(unlimited.temp_directory)
    assert unlimited.temp_directory.is_dir()  # dbt-duckdb would not create its parents


def test_a_connection_runs_within_the_limit_and_spills_to_the_temp_directory(
    tmp_path: Path,
) -> None:
    env = lake(tmp_path, "40MiB")
    con = connect(env)
    try:
        setting = "select current_setting('memory_limit'), current_setting('temp_directory')"
        assert con.execute(setting).fetchone() == ("40.0 MiB", str(env.temp_directory))
        con.execute("set threads = 1")
        con.execute("create table t as select md5(range::varchar) as s from range(1500000)")
        ordered = "select count(*) from (select s from t order by s)"
        assert con.execute(ordered).fetchone() == (1_500_000,)  # more than 40 MiB to sort
        assert any(env.temp_directory.iterdir())
    finally:
        con.close()


def test_a_database_file_opens_read_only_with_the_same_settings(tmp_path: Path) -> None:
    env = lake(tmp_path, "256MB")
    file = tmp_path / "warehouse.duckdb"
    connect(env, file).close()
    con = connect(env, file, read_only=True)
    try:
        assert con.execute("select current_setting('memory_limit')").fetchone() == ("244.1 MiB",)
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("create table t (i int)")
    finally:
        con.close()
