"""Publishing by change: the keys that differ, one merge per run, whole-table checks in SQL.

Real Delta tables in a temp dir and a real DuckDB connection.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
from deltalake import DeltaTable, write_deltalake

from transforms.quality.table_checks import row_level_suite, table_checks
from transforms.silver_changes import merge_change, published_keys, table_change

ADDRESSES = pl.DataFrame(
    {
        "record_key": ["a", "a", "b", "c"],
        "postcode": ["AB1 2CD", "EF3 4GH", None, "IJ5 6KL"],
        "aliases": [["X"], ["X"], [], None],
    }
)


def warehouse(frame: pl.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema silver")
    con.register("__frame", frame.to_arrow())
    con.execute("create table silver.t as select * from __frame")
    con.unregister("__frame")
    return con


def published(tmp_path: Path, frame: pl.DataFrame) -> Path:
    path = tmp_path / "t"
    write_deltalake(str(path), frame.to_arrow(), mode="overwrite")
    return path


def test_only_keys_whose_rows_differ_are_changed(tmp_path: Path) -> None:
    path = published(tmp_path, ADDRESSES)
    con = warehouse(ADDRESSES)
    same = table_change(con, "silver.t", "record_key", path)
    assert same.keys == [] and same.rows.height == 0 and same.total_rows == 4
    con.execute(
        "update silver.t set postcode = 'ZZ9 9ZZ' where postcode = 'EF3 4GH'"
    )  # a: one of two
    con.execute("delete from silver.t where record_key = 'c'")
    con.execute("insert into silver.t values ('d', null, ['Y'])")
    change = table_change(con, "silver.t", "record_key", path)
    assert change.keys == ["a", "c", "d"]
    assert sorted(change.rows["record_key"].to_list()) == ["a", "a", "d"]  # every row of a key
    assert table_change(con, "silver.t", "record_key", None).whole  # a rebuild


def test_repeated_rows_count_in_the_change(tmp_path: Path) -> None:
    twice = pl.DataFrame({"record_key": ["a", "a", "b"], "postcode": ["X", "X", "Y"]})
    path = published(tmp_path, twice)
    con = warehouse(twice)
    con.execute("delete from silver.t where record_key = 'a'")
    con.execute("insert into silver.t values ('a', 'X')")  # a: one row of two identical ones
    con.execute("update silver.t set record_key = 'c' where record_key = 'b'")
    assert table_change(con, "silver.t", "record_key", path).keys == ["a", "b", "c"]
    swapped = pl.DataFrame({"record_key": ["a", "a"], "postcode": ["X", "X"]})
    path = published(tmp_path / "swapped", swapped)
    con = warehouse(swapped.with_columns(pl.lit("Z").alias("postcode")))
    assert table_change(con, "silver.t", "record_key", path).keys == ["a"]


def test_a_table_whose_columns_changed_is_published_whole(tmp_path: Path) -> None:
    path = published(tmp_path, ADDRESSES.drop("aliases"))
    change = table_change(warehouse(ADDRESSES), "silver.t", "record_key", path)
    assert change.whole and change.rows.height == ADDRESSES.height


def test_one_merge_replaces_every_row_of_the_changed_keys(tmp_path: Path) -> None:
    path = published(tmp_path, ADDRESSES)
    before = DeltaTable(str(path)).version()
    new_rows = pl.DataFrame(
        {"record_key": ["a", "d"], "postcode": ["ZZ9 9ZZ", None], "aliases": [["X"], ["Y"]]}
    )
    version = merge_change(path, "record_key", ["a", "c", "d"], new_rows, {"run_id": "r1"})
    assert version == before + 1
    table = pl.from_arrow(DeltaTable(str(path)).to_pyarrow_table())
    assert isinstance(table, pl.DataFrame)
    assert sorted(table.select("record_key", "postcode").rows(), key=str) == sorted(
        [("a", "ZZ9 9ZZ"), ("b", None), ("d", None)], key=str
    )
    assert merge_change(path, "record_key", [], new_rows.head(0), {"run_id": "r2"}) == version
    assert published_keys(path, "record_key", {"a", "c", "zz"}) == {"a"}


def test_whole_table_checks_run_in_sql_and_the_row_level_rest_in_gx() -> None:
    suite = {
        "name": "t",
        "expectations": [
            {
                "type": "expect_column_values_to_be_unique",
                "kwargs": {"column": "record_key"},
                "meta": {"severity": "blocking", "family": "keys"},
            },
            {
                "type": "expect_compound_columns_to_be_unique",
                "kwargs": {"column_list": ["record_key", "postcode"]},
                "meta": {"severity": "blocking", "family": "keys"},
            },
            {
                "type": "expect_table_row_count_to_be_between",
                "kwargs": {"min_value": 4},
                "meta": {"severity": "warn", "family": "volume"},
            },
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "record_key"},
                "meta": {"severity": "blocking", "family": "keys"},
            },
        ],
    }
    assert [e["type"] for e in row_level_suite(suite)["expectations"]] == [
        "expect_column_values_to_not_be_null"
    ]
    con = warehouse(ADDRESSES)
    checks = {c["check"]: c for c in table_checks(con, "silver.t", suite, "silver.t")}
    unique = checks["expect_column_values_to_be_unique:record_key"]
    assert not unique["passed"] and unique["failing"] == 2 and unique["sample_keys"] == ["a"]
    assert checks["expect_compound_columns_to_be_unique:record_key, postcode"]["passed"]
    assert checks["expect_table_row_count_to_be_between:table"]["passed"]
    left_out = {
        c["check"]: c
        for c in table_checks(con, "silver.t", suite, "silver.t", exclude="record_key = 'a'")
    }
    assert left_out["expect_column_values_to_be_unique:record_key"]["passed"]
    count = left_out["expect_table_row_count_to_be_between:table"]
    assert not count["passed"] and count["checked"] == 2 and count["severity"] == "warn"
