"""The engine switch, the Spark session settings, and Delta tables read and committed from Spark.

Real Spark (local[2]) and real delta-rs tables under tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from transforms.config import PROJECT_ROOT, ConfigError, Environment, get_environment
from transforms.spark.delta import UnsupportedDeltaTable, commit_spark_output, read_delta, to_arrow


@pytest.fixture(autouse=True)
def _no_engine_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets what it needs; a graph run elsewhere exports the engine and dbt target."""
    for name in ("LAKEHOUSE_ENGINE", "LAKEHOUSE_DBT_TARGET", "LAKEHOUSE_SPARK_MASTER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LAKEHOUSE_CONFIG", str(PROJECT_ROOT / "lakehouse.yml"))


def test_the_engine_defaults_to_duckdb(env: Environment) -> None:
    assert env.engine == "duckdb"
    assert env.dbt_target == "local"


def test_the_engine_comes_from_the_environment_and_picks_the_dbt_target(
    env: Environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEHOUSE_ENGINE", "Spark")
    spark_env = get_environment()
    assert (spark_env.engine, spark_env.dbt_target) == ("spark", "spark")


def test_an_unknown_engine_is_refused_naming_where_it_was_set(
    env: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEHOUSE_ENGINE", "hadoop")
    with pytest.raises(ConfigError, match="LAKEHOUSE_ENGINE: engine 'hadoop'"):
        get_environment()
    monkeypatch.delenv("LAKEHOUSE_ENGINE")
    config = tmp_path / "lakehouse.yml"
    config.write_text("engine: polars\n")
    monkeypatch.setenv("LAKEHOUSE_CONFIG", str(config))
    with pytest.raises(ConfigError, match=f"{config}: engine 'polars'"):
        get_environment()


def test_the_config_file_sets_spark_master_and_options(
    env: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transforms.spark.session import session_conf

    config = tmp_path / "lakehouse.yml"
    config.write_text(
        "engine: spark\nspark:\n  master: spark://cluster:7077\n"
        "  conf:\n    spark.executor.memory: 16g\n    spark.sql.session.timeZone: UTC\n"
        "    spark.driver.extraJavaOptions: -XX:+UseG1GC\n"
    )
    monkeypatch.setenv("LAKEHOUSE_CONFIG", str(config))
    configured = get_environment()
    assert configured.engine == "spark"
    assert configured.spark.master == "spark://cluster:7077"
    conf = session_conf(configured)
    assert conf["spark.executor.memory"] == "16g"
    assert conf["spark.jars"].endswith(".jar") and Path(conf["spark.jars"]).exists()
    assert conf["spark.sql.parquet.outputTimestampType"] == "TIMESTAMP_MICROS"
    assert str(configured.spark_dir) in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    # The file's JVM options are added to ours: Derby stays in the lakehouse's Spark folder.
    java = conf["spark.driver.extraJavaOptions"].split()
    assert java == [f"-Dderby.system.home={configured.spark_dir.resolve()}", "-XX:+UseG1GC"]
    monkeypatch.setenv("LAKEHOUSE_SPARK_MASTER", "local[1]")
    assert get_environment().spark.master == "local[1]"
    config.write_text("engines: spark\n")
    with pytest.raises(ConfigError, match="unknown settings"):
        get_environment()


@pytest.mark.parametrize(
    ("master", "local"),
    [
        ("local", True),
        ("local[2]", True),
        ("local[*]", True),
        ("spark://cluster:7077", False),
        ("yarn", False),
        ("k8s://https://host:443", False),
    ],
)
def test_only_a_local_master_is_bound_to_the_loopback(master: str, local: bool) -> None:
    from transforms.spark.session import is_local_master

    assert is_local_master(master) is local


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The process's session (reused by every Spark test in this run)."""
    from transforms.spark.session import spark_session

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKEHOUSE_HOME", str(tmp_path_factory.mktemp("spark-home")))
        yield spark_session(get_environment())


@pytest.mark.slow
def test_a_local_session_names_its_driver_by_the_loopback(spark: object) -> None:
    # Never the machine's host name, which may not resolve (or resolve slowly) on this host.
    host = spark.sparkContext.getConf().get("spark.driver.host")  # type: ignore[attr-defined]
    assert host in {"localhost", "127.0.0.1"}


@pytest.mark.slow
def test_spark_reads_exactly_the_version_asked_for(spark: object, tmp_path: Path) -> None:
    path = tmp_path / "people"
    write_deltalake(str(path), pa.table({"id": [1, 2], "name": ["A", "B"]}))
    write_deltalake(str(path), pa.table({"id": [3], "name": ["C"]}), mode="append")
    write_deltalake(str(path), pa.table({"id": [9], "name": ["Z"]}), mode="overwrite")
    rows = {v: sorted(r["id"] for r in read_delta(spark, path, v).collect()) for v in (0, 1, 2)}
    assert rows == {0: [1, 2], 1: [1, 2, 3], 2: [9]}
    assert sorted(r["id"] for r in read_delta(spark, path).collect()) == [9]


@pytest.mark.slow
def test_spark_reads_partitioned_tables_with_their_partition_column(
    spark: object, tmp_path: Path
) -> None:
    path = tmp_path / "events"
    write_deltalake(
        str(path),
        pa.table({"id": [1, 2, 3], "day": ["d1", "d1", "d2"]}),
        partition_by=["day"],
    )
    frame = read_delta(spark, path)
    assert frame.columns == ["id", "day"]
    assert sorted((r["id"], r["day"]) for r in frame.collect()) == [(1, "d1"), (2, "d1"), (3, "d2")]


@pytest.mark.slow
def test_tables_with_reader_features_are_refused(spark: object, tmp_path: Path) -> None:
    path = tmp_path / "dv"
    write_deltalake(
        str(path), pa.table({"id": [1]}), configuration={"delta.enableDeletionVectors": "true"}
    )
    with pytest.raises(UnsupportedDeltaTable, match="deletionVectors"):
        read_delta(spark, path)


@pytest.mark.slow
def test_a_spark_output_is_one_commit_and_a_wrong_schema_commits_nothing(
    spark: object, tmp_path: Path
) -> None:
    path = tmp_path / "out"
    write_deltalake(str(path), pa.table({"id": pa.array([1], pa.int64()), "name": ["A"]}))
    more = spark.createDataFrame(pa.table({"id": pa.array([2, 3], pa.int64()), "name": ["B", "C"]}))
    version = commit_spark_output(more, path, mode="append", metadata={"run_id": "r1"})
    table = DeltaTable(str(path))
    assert version == 1
    assert sorted(table.to_pyarrow_table()["id"].to_pylist()) == [1, 2, 3]
    assert table.history(1)[0]["run_id"] == "r1"
    wrong = spark.createDataFrame(pa.table({"id": ["x"], "name": ["D"]}))
    with pytest.raises(ValueError, match="does not match the table"):
        commit_spark_output(wrong, path, mode="append", metadata={"run_id": "r2"})
    assert DeltaTable(str(path)).version() == 1
    replaced = commit_spark_output(
        spark.createDataFrame(pa.table({"id": pa.array([7], pa.int64()), "name": ["G"]})),
        tmp_path / "new",
        mode="overwrite",
        metadata={"run_id": "r3"},
    )
    assert replaced == 0
    assert to_arrow(read_delta(spark, tmp_path / "new")).column("id").to_pylist() == [7]
