"""The whole-table expectations of a suite (keys unique, row counts), run as SQL in DuckDB.

An incremental audit hands Great Expectations only the rows a run adds or changes; what can only
be judged over the whole table is computed here, streamed by DuckDB over the table the run would
publish, and reported in the same shape as a GX result (`results.check_rows`).
"""

from __future__ import annotations

from typing import Any

import duckdb

TABLE_LEVEL = (
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    "expect_table_row_count_to_be_between",
)
"""Expectations whose verdict depends on rows a run did not change."""


def row_level_suite(suite: dict[str, Any]) -> dict[str, Any]:
    """The suite without its whole-table expectations (GX runs it on the changed rows)."""
    kept = [e for e in suite["expectations"] if e["type"] not in TABLE_LEVEL]
    return {**suite, "expectations": kept}


def table_checks(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    suite: dict[str, Any],
    asset: str,
    *,
    exclude: str = "",
    sample: int = 20,
) -> list[dict[str, object]]:
    """Run every whole-table expectation of `suite` over `relation` (rows matching `exclude`,
    an SQL condition, are left out: they will not be published)."""
    where = f"where not ({exclude})" if exclude else ""
    base = f"(select * from {relation} {where})"
    total = int(con.execute(f"select count(*) from {base}").fetchall()[0][0])
    rows = []
    for expectation in suite["expectations"]:
        kind, kwargs = expectation["type"], expectation.get("kwargs", {})
        if kind not in TABLE_LEVEL:
            continue
        meta = expectation.get("meta", {})
        if kind == "expect_table_row_count_to_be_between":
            low, high = kwargs.get("min_value"), kwargs.get("max_value")
            passed = (low is None or total >= low) and (high is None or total <= high)
            rows.append(_row(asset, f"{kind}:table", meta, passed, total, 0 if passed else 1, []))
            continue
        columns = [kwargs["column"]] if "column" in kwargs else list(kwargs["column_list"])
        listed = ", ".join(f'"{c}"' for c in columns)
        present = " and ".join(f'"{c}" is not null' for c in columns[:1])
        duplicated = f"""
            select {listed}, count(*) as n from {base} where {present}
            group by all having count(*) > 1
        """
        (failing,) = con.execute(f"select coalesce(sum(n), 0) from ({duplicated})").fetchall()[0]
        samples = (  # grouped again only when there is something to show
            con.execute(
                f"select {listed} from ({duplicated}) order by all limit {sample}"
            ).fetchall()
            if failing
            else []
        )
        keys = [", ".join(str(v) for v in sample_row) for sample_row in samples]
        rows.append(
            _row(
                asset, f"{kind}:{', '.join(columns)}", meta, failing == 0, total, int(failing), keys
            )
        )
    return rows


def _row(
    asset: str,
    check: str,
    meta: dict[str, Any],
    passed: bool,
    checked: int,
    failing: int,
    keys: list[str],
) -> dict[str, object]:
    return {
        "asset": asset,
        "check": check,
        "severity": meta.get("severity", "blocking"),
        "passed": passed,
        "checked": checked,
        "failing": failing,
        "failing_share": failing / max(checked, 1),
        "sample_keys": keys,
        "detail": meta.get("family"),
    }
