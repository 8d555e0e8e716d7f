"""Choose blocking rules by measuring how many comparisons each one makes (never by guessing)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import splink.blocking_analysis as analysis
from splink.internals.splink_dataframe import SplinkDataFrame

from transforms.resolve.settings import CANDIDATE_BLOCKING_RULES


def measure_blocking_rules(
    tables: Sequence[SplinkDataFrame], candidates: list[str], sample: float = 1.0
) -> pl.DataFrame:
    """Comparisons each candidate rule generates on its own (`splink.blocking_analysis`)."""
    rows = []
    for name in candidates:
        counts = analysis.count_comparisons_from_blocking_rules(
            list(tables),
            blocking_rules=[CANDIDATE_BLOCKING_RULES[name]],
            link_type="link_and_dedupe",
            record_sample_proportion=sample,
        )
        rows.append({"rule": name, "comparisons": int(counts[0]["marginal_comparison_count"])})
    return pl.DataFrame(rows, schema={"rule": pl.String, "comparisons": pl.Int64})


def choose_blocking_rules(
    measured: pl.DataFrame, records: int, max_comparisons_per_record: float
) -> pl.DataFrame:
    """Keep the rules within budget: at most `max_comparisons_per_record` × records each."""
    budget = max(1.0, max_comparisons_per_record * records)
    return measured.with_columns(
        (pl.col("comparisons") / max(records, 1)).round(2).alias("per_record"),
        (pl.col("comparisons") <= budget).alias("chosen"),
    )
