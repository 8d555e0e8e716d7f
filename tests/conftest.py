"""Shared fixtures: a lakehouse in tmp_path, the project catalogue, delivery writers."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from transforms.catalogue import Dataset, load_catalogue
from transforms.config import PROJECT_ROOT, Environment, get_environment

# A pytest-xdist worker runs under execnet, whose `__main__` has no `__file__`: pyspark's
# Connect module (imported by Great Expectations) takes that for its own doctest run and calls
# `sys.exit(0)`. Name the worker's main module so the import goes on as it does under pytest.
if not hasattr(sys.modules["__main__"], "__file__"):
    sys.modules["__main__"].__file__ = "<pytest-xdist worker>"

CATALOGUE = PROJECT_ROOT / "catalogue"
# NO_PROXY for tests' loopback peers (moto, chromedriver): never via a proxy from the environment.
LOOPBACK_HOSTS = "127.0.0.1,localhost"
# The `built` run logs every host name it (or a child process) looks up here, under its root.
LOOKUP_HOOK = str(Path(__file__).parent / "lookup_log")
LOOKUP_LOG = "host-lookups.log"
# The longest modules, collected first: `make test` hands whole modules to two xdist workers in
# collection order, and longest-first keeps the workers finishing together.
LONGEST_MODULES = ("test_spark_parity.py", "test_benchmark_harness.py", "test_object_store.py")
# What `export_environment` sets for dbt's child process whenever the graph runs.
EXPORTED = (
    "LAKEHOUSE_HOME",
    "LAKEHOUSE_SCRATCH",
    "LAKEHOUSE_WAREHOUSE",
    "LAKEHOUSE_CATALOGUE",
    "LAKEHOUSE_DBT_PROJECT",
    "LAKEHOUSE_DBT_TARGET",
    "LAKEHOUSE_ENGINE",
    "LAKEHOUSE_MEMORY_LIMIT",
    "LAKEHOUSE_TEMP_DIRECTORY",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest modules first; the rest keep pytest's order (the sort is stable)."""

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_MODULES.index(name) if name in LONGEST_MODULES else len(LONGEST_MODULES)

    items.sort(key=rank)


def restore_exported_environment(patch: pytest.MonkeyPatch) -> None:
    """Have `patch` put back every variable a graph run exports, so later tests never see them."""
    for name in EXPORTED:
        present = name in os.environ
        patch.setenv(name, os.environ.get(name, ""))
        if not present:
            patch.delenv(name)


ELECTORAL_HEADER = (
    "elector_number,full_name,address_line_1,address_line_2,town,postcode,registered_on"
)
ELECTORAL_ROWS = [
    "AB-1,John Albert Smith,12 High Street,,Leeds,LS1 4AB,2019-05-01",
    "AB-2,Sarah Smith,12 High Street,,Leeds,LS1 4AB,2019-05-01",
    "AB-3,Mohammed Khan,3 Mill Lane,Flat 2,Leeds,LS6 2QT,2021-02-11",
]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    """One small lakehouse built end to end (generate, ingest, dbt, silver, gold), shared read-only."""
    from tests.lookup_log.sitecustomize import logging_getaddrinfo
    from tests.pipeline import run_everything
    from transforms.generate import generate_catalogue

    root = tmp_path_factory.mktemp("built")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKEHOUSE_HOME", str(root / "lakehouse"))
        patch.setenv("LAKEHOUSE_CATALOGUE", str(CATALOGUE))
        env = get_environment()
        generate_catalogue(env.catalogue_dir, env.landing, env.truth, people=600, seed=7)
        with pytest.MonkeyPatch.context() as watch:  # host names looked up by the run: none
            log = root / LOOKUP_LOG
            log.touch()
            watch.setenv("LAKEHOUSE_LOOKUP_LOG", str(log))
            watch.setenv(
                "PYTHONPATH",
                os.pathsep.join(filter(None, [LOOKUP_HOOK, os.environ.get("PYTHONPATH")])),
            )
            watch.setattr(socket, "getaddrinfo", logging_getaddrinfo(str(log)))
            report = run_everything(env)
        assert report.success, report.failures
        open_test_task(env)
        yield env


TEST_TASK = "OP-TEST-1"
"""The open task (every dataset) the built lakehouse's reads name (`--task OP-TEST-1`)."""


def open_test_task(
    env: Environment, ref: str = TEST_TASK, datasets: list[str] | None = None
) -> None:
    """Open task `ref` in the tasking register, covering `datasets` (default: the catalogue)."""
    from transforms.governance.tasks import open_task

    open_task(
        env,
        ref,
        title=f"test task {ref}",
        datasets=datasets or sorted(load_catalogue(env.catalogue_dir)),
        approved_by="DI Approver",
        purpose="tests of governed reads",
        user="platform",
    )


def copy_lakehouse(
    source: Environment, target: Path, monkeypatch: pytest.MonkeyPatch
) -> Environment:
    """A private, writable copy of a built lakehouse."""
    shutil.copytree(source.home, target)
    monkeypatch.setenv("LAKEHOUSE_HOME", str(target))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(source.catalogue_dir))
    return get_environment()


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Environment]:
    """A fresh lakehouse under tmp_path with a private copy of the catalogue."""
    catalogue = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE, catalogue)
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "lakehouse"))
    monkeypatch.setenv("LAKEHOUSE_CATALOGUE", str(catalogue))
    yield get_environment()


@pytest.fixture()
def catalogue(env: Environment) -> dict[str, Dataset]:
    return load_catalogue(env.catalogue_dir)


def deliver(env: Environment, dataset: str, delivery_id: str, files: dict[str, bytes]) -> Path:
    """Drop a delivery into landing, as a partner would."""
    folder = env.landing / dataset / delivery_id
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder


def electoral_csv(rows: list[str] | None = None, header: str = ELECTORAL_HEADER) -> bytes:
    return ("\n".join([header, *(ELECTORAL_ROWS if rows is None else rows)]) + "\n").encode()
