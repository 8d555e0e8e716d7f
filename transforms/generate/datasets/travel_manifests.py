"""Advance passenger information: MRZ names, YYMMDD dates of birth, 1-3 trips per traveller."""

from __future__ import annotations

import numpy as np
import polars as pl

from transforms.generate import formats as F
from transforms.generate import names as N
from transforms.generate.datasets.base import (
    Builder,
    Context,
    Rendered,
    dates_between,
    pick_people,
    window_bounds,
)
from transforms.generate.datasets.common import hostile_names, noisy_names
from transforms.generate.rand import weighted_index

TRAVELLERS = 0.20  # share of people travelling in a delivery period
TRIPS = (0.45, 0.33, 0.22)  # 1, 2 or 3 trips


def sample(ctx: Context, k: int, rng: np.random.Generator, existing: pl.DataFrame) -> pl.DataFrame:
    """New trips in period k (each trip a fixed flight, fixed for the record's life)."""
    people = ctx.world.people
    travellers = pick_people(rng, people["person_id"].to_numpy(), TRAVELLERS)
    trips = weighted_index(rng.random(len(travellers)), TRIPS) + 1
    pid = np.repeat(travellers, trips)
    n = len(pid)
    start, end = window_bounds(ctx, np.full(n, k))
    foreign = pl.Series(N.FOREIGN_AIRPORTS).gather(rng.integers(0, len(N.FOREIGN_AIRPORTS), size=n))
    uk = pl.Series(N.UK_AIRPORTS).gather(rng.integers(0, len(N.UK_AIRPORTS), size=n))
    homes = {c: "|".join(v) for c, v in N.HOME_AIRPORTS.items()}
    trips_frame = pl.DataFrame(
        {
            "person_id": pid,
            "nationality": people["nationality"].gather(pid),
            "u": rng.random(n),
            "go_home": rng.random(n) < 0.5,
            "outbound": rng.random(n) < 0.5,
            "foreign": foreign,
            "uk": uk,
            "carrier": pl.Series(N.CARRIERS).gather(rng.integers(0, len(N.CARRIERS), size=n)),
            "flight": rng.integers(1, 9999, size=n),
            "departure": dates_between(rng.random(n), start, end),
        }
    )
    # Non-British nationals fly to their home country about half the time.
    options = (
        pl.col("nationality")
        .replace_strict(homes, default=None, return_dtype=pl.String)
        .str.split("|")
    )
    home = options.list.get((pl.col("u") * options.list.len()).cast(pl.Int64), null_on_oob=True)
    away = pl.when(pl.col("go_home") & home.is_not_null()).then(home).otherwise(pl.col("foreign"))
    return trips_frame.select(
        "person_id",
        "carrier",
        "flight",
        "departure",
        pl.when(pl.col("outbound")).then(pl.col("uk")).otherwise(away).alias("origin"),
        pl.when(pl.col("outbound")).then(away).otherwise(pl.col("uk")).alias("destination"),
    )


def render(ctx: Context, rows: pl.DataFrame, k: int) -> Rendered:
    p = ctx.people(k, rows["person_id"])
    nz = ctx.noiser(rows)
    name = noisy_names(nz, p, typo=0.004, maiden=0.10)
    dob = nz.swap_day_month(p["date_of_birth"], 0.003)
    dob = nz.blank(dob, 0.003, "dob_missing")
    sex = nz.blank(p["sex"], 0.002, "sex_missing")
    passport = nz.typo(p["passport_number"], 0.003, "typo_passport_number")
    has_phone = nz.mask("contact_phone", 0.5)
    phone = pl.select(pl.when(pl.lit(pl.Series(has_phone))).then(pl.lit(p["mobile"]))).to_series()
    h = ctx.hostile(nz, k, p["person_id"], town=False)
    name = hostile_names(h, name)
    dob = h.dob(dob)
    # A re-delivered manifest is an amended one: the flight left a day later.
    delay = (rows["revision"] > 0).cast(pl.Int32)
    records = pl.DataFrame(
        {
            "rec": rows["rec"],
            "carrier": rows["carrier"],
            "flight": rows["flight"],
            "departure": rows["departure"],
            "delay": delay,
            "origin": rows["origin"],
            "destination": rows["destination"],
            "family": name.family,
            "given": name.given,
            "middle": name.middle,
            "dob": dob,
            "sex": sex,
            "passport": passport,
            "nationality": p["nationality"],
            "phone": h.phone(phone, "mobile"),
        }
    ).select(
        F.hex_id(rows["rec"].to_numpy(), ctx.salt, "API-").alias("manifest_id"),
        "carrier",
        pl.format("{}{}", "carrier", pl.col("flight").cast(pl.String).str.zfill(4)).alias(
            "flight_number"
        ),
        F.strftime(
            pl.col("departure") + pl.duration(days=pl.col("delay")), ctx.fmt("departure_date")
        ).alias("departure_date"),
        "origin",
        "destination",
        pl.concat_str(
            [
                F.mrz(pl.col("family")),
                pl.lit("<<"),
                pl.concat_str(
                    [F.mrz(pl.col("given")), F.mrz(pl.col("middle"))],
                    separator="<",
                    ignore_nulls=True,
                ),
            ]
        ).alias("mrz_name"),
        F.strftime(pl.col("dob"), ctx.fmt("date_of_birth")).alias("date_of_birth"),
        "sex",
        pl.col("passport").alias("passport_number"),
        "nationality",
        pl.col("phone").alias("contact_phone"),
    )
    return Rendered(records, p["person_id"], phone, nz.tags())


BUILDER = Builder(sample=sample, render=render)
