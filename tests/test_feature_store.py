"""`ops.er_features`: resolution publishes its Splink input; search and dashboards read it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import copy_lakehouse
from transforms.config import Environment
from transforms.resolve.feature_store import (
    FEATURES_TABLE,
    published_features,
    resolution_features,
)
from transforms.resolve.pipeline import silver_features


def test_the_published_features_are_the_splink_input_of_the_silver_gold_was_built_from(
    built: Environment,
) -> None:
    published = published_features(built)
    assert published is not None
    expected, _ = silver_features(built)
    assert published.height == expected.height > 0
    assert published.equals(expected.sort("unique_id"))


def test_a_few_records_are_read_by_key(built: Environment) -> None:
    everything = resolution_features(built)
    keys = everything["unique_id"].gather_every(7).to_list()
    some = resolution_features(built, keys)
    assert some["unique_id"].to_list() == sorted(keys)
    assert some.equals(everything.filter(everything["unique_id"].is_in(keys)))


def test_a_lakehouse_resolved_before_the_store_existed_builds_them_from_silver(
    built: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = copy_lakehouse(built, tmp_path / "lake", monkeypatch)
    shutil.rmtree(Path(str(env.table_path(FEATURES_TABLE))))
    assert published_features(env) is None
    assert published_features(env, ["x"]) is None
    expected, _ = silver_features(env)
    assert resolution_features(env).equals(expected)
    key = expected["unique_id"][0]
    assert resolution_features(env, [key])["unique_id"].to_list() == [key]
