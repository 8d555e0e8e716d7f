"""Electoral register: ~70% of adults; "Forename Middle Surname" in mixed case; no DOB."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from transforms.generate import formats as F
from transforms.generate.datasets.base import (
    Builder,
    Context,
    Rendered,
    dates_between,
    letters,
    newcomers,
    no_phone,
    person_ids,
    pick_people,
    window_bounds,
)
from transforms.generate.datasets.common import (
    hostile_address,
    hostile_names,
    noisy_address,
    noisy_names,
)

COVERAGE = 0.70
EARLIEST_REGISTRATION = date(2000, 1, 1)


def sample(ctx: Context, k: int, rng: np.random.Generator, existing: pl.DataFrame) -> pl.DataFrame:
    adults = ctx.world.people.filter(pl.col("is_adult"))["person_id"].to_numpy()
    if k == 0:
        chosen = pick_people(rng, adults, COVERAGE)
    else:
        chosen = newcomers(rng, adults, person_ids(existing), int(0.005 * existing.height) + 1)
    return pl.DataFrame({"person_id": chosen})


def render(ctx: Context, rows: pl.DataFrame, k: int) -> Rendered:
    p = ctx.people(k, rows["person_id"])
    nz = ctx.noiser(rows)
    name = noisy_names(nz, p, typo=0.012, nickname=0.01, maiden=0.25, swap=0.004, drop_middle=0.12)
    addr = noisy_address(
        nz, p, stale=0.15, abbreviate=0.03, postcode_formats=(0.92, 0.04, 0.03, 0.01)
    )
    h = ctx.hostile(nz, k, p["person_id"])
    name = hostile_names(h, name)
    addr = hostile_address(h, addr)

    # Registered when first seen: long ago for the first snapshot, within the period otherwise.
    first = rows["first"].to_numpy()
    adult_on = p["date_of_birth"].to_numpy().astype("datetime64[D]") + np.timedelta64(
        18 * 365 + 5, "D"
    )
    window_start, window_end = window_bounds(ctx, first)
    low = np.where(
        first == 0, np.maximum(adult_on, np.datetime64(EARLIEST_REGISTRATION)), window_start
    )
    high = np.where(first == 0, window_start - np.timedelta64(30, "D"), window_end)
    registered = dates_between(nz.draws.uniform("registered_on"), low, np.maximum(high, low + 1))

    # Polling district "ABn" then the elector's number.
    district = nz.draws.integers("district", 0, 26 * 26 * 9)
    records = pl.DataFrame(
        {
            "a": letters(district // 234),
            "b": letters((district // 9) % 26),
            "c": district % 9 + 1,
            "number": rows["rec"] + 1,
            "given": name.given,
            "middle": name.middle,
            "family": name.family,
            "registered": registered,
            "line": addr.line,
            "flat": addr.flat,
            "town": addr.town,
            "postcode": addr.postcode,
        }
    ).select(
        pl.format("{}{}{}-{}", "a", "b", "c", pl.col("number").cast(pl.String).str.zfill(7)).alias(
            "elector_number"
        ),
        pl.concat_str(
            [F.titlecase(pl.col(c)) for c in ("given", "middle", "family")],
            separator=" ",
            ignore_nulls=True,
        ).alias("full_name"),
        pl.col("line").alias("address_line_1"),
        pl.col("flat").alias("address_line_2"),
        "town",
        "postcode",
        F.strftime(pl.col("registered"), ctx.fmt("registered_on")).alias("registered_on"),
    )
    return Rendered(records, p["person_id"], no_phone(p.height), nz.tags())


BUILDER = Builder(sample=sample, render=render)
