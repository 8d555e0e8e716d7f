"""Telephone directory: one listing per listed household landline, "SMITH, J" style."""

from __future__ import annotations

import numpy as np
import polars as pl

from transforms.generate import formats as F
from transforms.generate.datasets.base import Builder, Context, Rendered, letters, newcomers
from transforms.generate.datasets.common import (
    hostile_address,
    hostile_names,
    noisy_address,
    noisy_names,
)

LISTED = 0.65  # share of landline households in the directory


def _listable(ctx: Context, k: int) -> pl.DataFrame:
    """Heads of households with a landline at delivery k (their partner is listed sometimes)."""
    s = ctx.world.state(k)
    return s.filter(pl.col("landline").is_not_null() & (pl.col("household_role") == "head"))


def sample(ctx: Context, k: int, rng: np.random.Generator, existing: pl.DataFrame) -> pl.DataFrame:
    heads = _listable(ctx, k)
    hh = heads["household_id"].to_numpy()
    if k == 0:
        chosen = hh[rng.random(len(hh)) < LISTED]
    else:
        listed = existing["household_id"].to_numpy() if existing.height else np.zeros(0, np.int64)
        chosen = newcomers(rng, hh, listed, int(0.005 * existing.height) + 1)
    # Listed under the head, or under the partner for a fifth of households that have one.
    s = ctx.world.state(k)
    partner = s.filter(pl.col("household_role") == "partner").select(
        "household_id", pl.col("person_id").alias("partner")
    )
    picked = (
        heads.filter(pl.col("household_id").is_in(chosen))
        .select("household_id", "person_id")
        .join(partner, on="household_id", how="left")
        .sort("household_id")
    )
    use_partner = (rng.random(picked.height) < 0.2) & picked["partner"].is_not_null().to_numpy()
    return picked.select(
        pl.when(pl.Series(use_partner))
        .then(pl.col("partner"))
        .otherwise(pl.col("person_id"))
        .alias("person_id"),
        "household_id",
    )


def render(ctx: Context, rows: pl.DataFrame, k: int) -> Rendered:
    p = ctx.people(k, rows["person_id"])
    nz = ctx.noiser(rows)
    name = noisy_names(nz, p, typo=0.01, nickname=0.02, maiden=0.10)
    addr = noisy_address(
        nz, p, stale=0.04, abbreviate=0.25, postcode_formats=(0.96, 0.03, 0.0, 0.01)
    )
    h = ctx.hostile(nz, k, p["person_id"])
    name = hostile_names(h, name, middle=False)
    addr = hostile_address(h, addr)
    prefix = letters(nz.draws.integers("prefix", 0, 26))
    records = pl.DataFrame(
        {
            "rec": rows["rec"],
            "prefix": prefix,
            "family": name.family,
            "given": name.given,
            "line": addr.line,
            "flat": addr.flat,
            "town": addr.town,
            "postcode": addr.postcode,
            "telephone": h.phone(p["landline_national"], "landline_national"),
        }
    ).select(
        pl.format("TD{}{}", "prefix", (pl.col("rec") + 1).cast(pl.String).str.zfill(8)).alias(
            "listing_id"
        ),
        pl.format(
            "{}, {}",
            F.ascii_upper(pl.col("family")),
            F.ascii_upper(pl.col("given")).str.slice(0, 1),
        ).alias("listed_name"),
        F.with_flat(pl.col("flat"), pl.col("line")).alias("address"),
        "town",
        "postcode",
        "telephone",
    )
    return Rendered(records, p["person_id"], p["landline"], nz.tags())


BUILDER = Builder(sample=sample, render=render)
