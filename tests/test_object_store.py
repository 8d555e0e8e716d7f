"""`LAKEHOUSE_HOME` on an object store (`s3://bucket/prefix`), against a local S3 emulator.

The emulator is moto's server in its own process on 127.0.0.1: in this process it would starve,
because delta-rs keeps the GIL while `DeltaTable.history()` waits on the network.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner
from upath import UPath

from orchestration.cli import app
from orchestration.resources import LakehouseResource
from tests.conftest import (
    CATALOGUE,
    LOOPBACK_HOSTS,
    TEST_TASK,
    open_test_task,
    restore_exported_environment,
)
from tests.pipeline import run_everything
from transforms.config import PROJECT_ROOT, Environment, get_environment
from transforms.delta_io import history, read_table
from transforms.generate import generate_catalogue
from transforms.governance.cuts import make_cut, verify_cut
from transforms.governance.destruction import destroy
from transforms.governance.partners import load_partners
from transforms.publish import SILVER_TABLES
from transforms.storage import is_local

BUCKET = "ndec-lakehouse-test"
PREFIX = "lakehouse"
# What only a local folder can hold: the warehouse, Dagster's home, Spark, the OS file locks.
LOCAL_ONLY = {
    "warehouse.duckdb",
    "warehouse.duckdb.wal",
    "dagster",
    "spark",
    "locks",
    "duckdb_tmp",  # DuckDB's spill folder (memory_limit)
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free local port, stopped when the module is done."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def s3_lake(s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    """The small catalogue (600 people, seed 7) built end to end with its home in a bucket.

    Local scratch and the working folder are under tmp; the project's default home is
    snapshotted first, so the tests can check that nothing of the lakehouse was written locally.
    """
    root = tmp_path_factory.mktemp("object_store")
    (root / "cwd").mkdir()
    aws = {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",  # the emulator speaks plain http
        "AWS_EC2_METADATA_DISABLED": "true",
        # The emulator is on the loopback: never send its requests through a proxy from the
        # environment (boto3 and delta-rs's HTTP client both honour these).
        "NO_PROXY": LOOPBACK_HOSTS,
        "no_proxy": LOOPBACK_HOSTS,
        "LAKEHOUSE_HOME": f"s3://{BUCKET}/{PREFIX}",
        "LAKEHOUSE_SCRATCH": str(root / "scratch"),
        "LAKEHOUSE_CATALOGUE": str(CATALOGUE),
    }
    with pytest.MonkeyPatch.context() as patch:
        restore_exported_environment(patch)
        for name, value in aws.items():
            patch.setenv(name, value)
        patch.chdir(root / "cwd")  # a path that lost its scheme would land here
        boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=BUCKET)
        before = _tree(PROJECT_ROOT / ".lakehouse")
        env = get_environment()
        with pytest.MonkeyPatch.context() as run:  # the run's exports must not outlive it
            restore_exported_environment(run)
            generate_catalogue(env.catalogue_dir, env.landing, env.truth, people=200, seed=7)
            report = run_everything(env)
        assert report.success, report.failures
        yield env
        assert list(Path.cwd().iterdir()) == []
        assert not (PROJECT_ROOT / "s3:").exists()
        assert _tree(PROJECT_ROOT / ".lakehouse") == before
        assert {p.name for p in (root / "scratch").iterdir()} <= LOCAL_ONLY


def _keys(endpoint: str, prefix: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=endpoint)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


@pytest.mark.slow
def test_the_whole_lakehouse_runs_on_an_object_store(
    s3_lake: Environment, s3_endpoint: str
) -> None:
    env = s3_lake
    assert isinstance(env.home, UPath) and not is_local(env.home)
    assert is_local(env.warehouse) and env.warehouse.is_file()
    north = load_partners(env.catalogue_dir)["rocu_north"]
    cut = make_cut(env, north, "s3-run")
    assert verify_cut(cut.folder, cut.manifest_sha256) == []

    keys = _keys(s3_endpoint, f"{PREFIX}/")
    for layer, table in [
        ("bronze", "electoral_roll"),
        ("silver", "person_records"),
        ("gold", "entities"),
        ("ops", "deliveries"),
        ("ops", "disclosures"),
    ]:
        log = f"{PREFIX}/delta/{layer}/{table}/_delta_log/"
        assert any(k.startswith(log) for k in keys), f"no Delta log for {layer}.{table}"
        assert history(env.table_path(f"{layer}.{table}")), f"no versions of {layer}.{table}"
    assert history(env.table_path("bronze.electoral_roll"))[-1]["delivery_id"] == "2026-10-05"
    for table in SILVER_TABLES:
        assert read_table(env, f"silver.{table}").height > 0, table
    assert read_table(env, "gold.entities").height > 0

    assert any(k.startswith(f"{PREFIX}/landing/electoral_roll/2026-10-05/") for k in keys)
    assert f"{PREFIX}/truth/record_truth.parquet" in keys
    assert any(k.startswith(f"{PREFIX}/models/er/v0001/") for k in keys)
    cut_keys = {k for k in keys if k.startswith(f"{PREFIX}/cuts/rocu_north/s3-run/")}
    manifest = json.loads((cut.folder / "manifest.json").read_text())
    listed = {f["name"] for t in manifest["tables"] for f in t["files"]} | {"manifest.json"}
    assert {k.rsplit("/", 1)[1] for k in cut_keys} == listed
    for report_key in ("data_docs/index.html", "er/comparison_viewer.html", "validations/"):
        assert any(k.startswith(f"{PREFIX}/reports/{report_key}") for k in keys), report_key

    runner = CliRunner()
    open_test_task(env)  # reads serve an open task; the register lives in the bucket too
    shown = runner.invoke(app, ["history", "silver.person_records"])
    assert shown.exit_code == 0, shown.output
    counted = runner.invoke(
        app,
        [
            "sql",
            "select count(*) as n from silver.person_records",
            "--user",
            "analyst",
            "--purpose",
            "object-store test",
            "--task",
            TEST_TASK,
            "--format",
            "json",
        ],
    )
    assert counted.exit_code == 0, counted.output
    assert json.loads(counted.stdout)[0]["n"] == read_table(env, "silver.person_records").height


@pytest.mark.slow
def test_destruction_purges_versions_and_files_in_the_bucket(
    s3_lake: Environment, s3_endpoint: str
) -> None:
    env = s3_lake
    bronze = read_table(env, "bronze.electoral_roll")
    key = f"electoral_roll:{bronze['elector_number'][0]}"
    table = f"{PREFIX}/delta/bronze/electoral_roll/"
    data_files = {k for k in _keys(s3_endpoint, table) if k.endswith(".parquet")}
    certificate = destroy(env, "electoral_roll", reason="test", user="steward", record_keys=[key])
    assert certificate.log.rows["bronze.electoral_roll"] == 1
    assert len(history(env.table_path("bronze.electoral_roll"))) == 1  # one version left
    with pytest.raises(Exception):  # noqa: B017 - earlier versions are gone, not hidden
        read_table(env, "bronze.electoral_roll", version=0)
    assert read_table(env, "bronze.electoral_roll").height == bronze.height - 1
    people = read_table(env, "silver.person_records")
    assert key not in people["record_key"].to_list()
    assert not data_files & set(_keys(s3_endpoint, table))  # vacuumed from the bucket


def test_a_local_home_keeps_plain_paths_and_its_own_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "lake"))
    monkeypatch.setenv("LAKEHOUSE_SCRATCH", str(tmp_path / "ignored"))  # only for remote homes
    env = get_environment()
    for path in (
        env.home,
        env.landing,
        env.delta,
        env.truth,
        env.quarantine,
        env.cuts,
        env.reports,
        env.models,
        env.table_path("silver.person_records"),
    ):
        assert type(path) is type(Path()), path
    assert env.home == tmp_path / "lake"
    assert env.warehouse == tmp_path / "lake" / "warehouse.duckdb"
    assert env.dagster_home == tmp_path / "lake" / "dagster"
    assert env.spark_dir == tmp_path / "lake" / "spark"
    assert type(LakehouseResource(home=str(env.home)).env().home) is type(Path())


def test_an_object_store_home_is_a_upath_with_a_local_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", "s3://some-bucket/lake")
    monkeypatch.delenv("LAKEHOUSE_SCRATCH", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_REGION", "eu-west-2")
    env = get_environment()
    assert isinstance(env.home, UPath)
    assert str(env.table_path("silver.person_records")) == (
        "s3://some-bucket/lake/delta/silver/person_records"
    )
    assert env.home.storage_options["endpoint_url"] == "http://127.0.0.1:9"
    assert env.home.storage_options["client_kwargs"] == {"region_name": "eu-west-2"}
    assert env.warehouse.parent.parent == tmp_path / "cache" / "ndec-lakehouse"
    assert env.dagster_home.parent == env.spark_dir.parent == env.warehouse.parent
    assert env.scratch == get_environment().scratch  # stable per URI
    resource = LakehouseResource(home=str(env.home)).env()
    assert isinstance(resource.home, UPath) and resource.home == env.home
