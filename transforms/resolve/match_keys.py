"""Match keys: which comparisons agreed and which disagreed for one scored pair.

`+GIVEN_NAME +DATE_OF_BIRTH -PHONES`: `+` a comparison whose match weight is positive, `-` one
whose weight is negative; a comparison at its null level (a field one record lacks) says
nothing and is left out. Stored with every pair in `gold.entity_evidence`, so an analyst can
read the reasons for a link in SQL as well as in `lakehouse explain`.
"""

from __future__ import annotations

import polars as pl


def comparison_names(pairs: pl.DataFrame) -> list[str]:
    """The model's comparisons whose levels `pairs` carry (`gamma_<name>` columns), in order."""
    return [c.removeprefix("gamma_") for c in pairs.columns if c.startswith("gamma_")]


def match_key_expr(names: list[str]) -> pl.Expr:
    """One string per pair: `+NAME` for each agreeing comparison, `-NAME` for each disagreeing."""
    parts = [
        pl.when(pl.col(f"gamma_{n}") == -1)
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col(f"mw_{n}") > 0)
        .then(pl.lit(f"+{n.upper()}"))
        .otherwise(pl.lit(f"-{n.upper()}"))
        for n in names
    ]
    if not parts:
        return pl.lit("", dtype=pl.String)
    # concat_str skips the null parts itself: a tenth of the time of building and joining a list
    # per pair (1.6 s for 400,000 pairs), for the same strings.
    return pl.concat_str(parts, separator=" ", ignore_nulls=True)
