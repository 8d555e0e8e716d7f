"""`ops.er_features`: resolution publishes its Splink input with each record's input hash, builds
it again only where silver changed; search and dashboards read it."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import copy_lakehouse
from transforms.config import Environment
from transforms.delta_io import read_table
from transforms.resolve.feature_inputs import INPUT_HASH, KEY, input_hashes, reusable_features
from transforms.resolve.feature_store import (
    FEATURES_TABLE,
    published_features,
    resolution_features,
    stored_features,
)
from transforms.resolve.features import person_features
from transforms.resolve.pipeline import silver_features, silver_inputs


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


def _inputs(env: Environment) -> tuple[pl.DataFrame, ...]:
    inputs, _ = silver_inputs(env)
    return inputs


def _as_published(features: pl.DataFrame, hashes: pl.DataFrame) -> pl.DataFrame:
    return stored_features(features, hashes)


def test_the_published_input_hashes_are_those_of_silver(built: Environment) -> None:
    stored = read_table(built, FEATURES_TABLE).select(KEY, INPUT_HASH).sort(KEY)
    assert stored[INPUT_HASH].null_count() == 0
    assert stored.equals(input_hashes(*_inputs(built)).sort(KEY))


def test_only_records_whose_rows_changed_are_built_again_and_the_result_equals_a_build(
    built: Environment,
) -> None:
    persons, addresses, identifiers, documents = _inputs(built)
    full = person_features(persons, addresses, identifiers, documents)
    published = _as_published(full, input_hashes(persons, addresses, identifiers, documents))

    moved = addresses["record_key"][0]
    renamed = persons.filter(pl.col("record_key") != moved)["record_key"][0]
    gone = persons.filter(~pl.col("record_key").is_in([moved, renamed]))["record_key"][0]
    addresses = addresses.with_columns(
        pl.when(pl.col("record_key") == moved)
        .then(pl.lit("1 NEW STREET"))
        .otherwise(pl.col("address_line"))
        .alias("address_line")
    )
    persons = persons.with_columns(
        pl.when(pl.col("record_key") == renamed)
        .then(pl.lit("ZEBEDEE"))
        .otherwise(pl.col("given_name"))
        .alias("given_name")
    ).filter(pl.col("record_key") != gone)
    # A change of a column features do not read (lineage) builds nothing.
    persons = persons.with_columns(pl.lit(99).alias("source_version"))

    features, hashes, changed = reusable_features(
        published, persons, addresses, identifiers, documents
    )
    assert changed == {moved, renamed, gone}
    assert features.equals(person_features(persons, addresses, identifiers, documents))
    assert hashes.filter(pl.col("record_key") == gone).height == 0


def test_a_generic_value_changes_the_input_hash_of_its_holders(built: Environment) -> None:
    persons, addresses, identifiers, documents = _inputs(built)
    holder = identifiers["record_key"][0]
    before = input_hashes(persons, addresses, identifiers, documents)
    without = identifiers.filter(pl.col("record_key") != holder)  # its value became generic
    after = input_hashes(persons, addresses, without, documents)
    differ = before.join(after, on=KEY, suffix="_after").filter(
        pl.col(INPUT_HASH) != pl.col(f"{INPUT_HASH}_after")
    )
    assert differ[KEY].to_list() == [holder]


def test_features_published_before_input_hashes_are_built_whole(built: Environment) -> None:
    persons, addresses, identifiers, documents = _inputs(built)
    full = person_features(persons, addresses, identifiers, documents)
    hashes = input_hashes(persons, addresses, identifiers, documents)
    for old in (
        stored_features(full).drop(INPUT_HASH),
        stored_features(full, hashes).with_columns(pl.col(INPUT_HASH).cast(pl.String)),
    ):
        features, _, changed = reusable_features(old, persons, addresses, identifiers, documents)
        assert changed is None
        assert features.equals(full)
