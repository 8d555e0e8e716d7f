"""Registered keepers: "MR JOHN SMITH", DD/MM/YYYY, one-line address, current-format marks."""

from __future__ import annotations

import numpy as np
import polars as pl

from transforms.generate import formats as F
from transforms.generate import names as N
from transforms.generate.datasets.base import (
    Builder,
    Context,
    Rendered,
    letters,
    newcomers,
    no_phone,
    person_ids,
    pick_people,
)
from transforms.generate.datasets.common import (
    hostile_address,
    hostile_names,
    noisy_address,
    noisy_names,
)
from transforms.generate.rand import unique_integers

KEEPERS = 0.45  # share of adults keeping a vehicle
SECOND_VEHICLE = 0.15
_NR, _NX = len(N.REG_LETTERS), len(N.REG_RANDOM_LETTERS)
_AGES = np.array([*range(2, 26), *range(51, 76)])  # age identifiers: March 02-25, September 51-75


def sample(ctx: Context, k: int, rng: np.random.Generator, existing: pl.DataFrame) -> pl.DataFrame:
    """Vehicles and their keepers; the mark, make and colour stay with the record."""
    adults = ctx.world.people.filter(pl.col("is_adult"))["person_id"].to_numpy()
    if k == 0:
        chosen = pick_people(rng, adults, KEEPERS)
        chosen = np.sort(np.concatenate([chosen, chosen[rng.random(len(chosen)) < SECOND_VEHICLE]]))
    else:
        chosen = newcomers(rng, adults, person_ids(existing), int(0.005 * existing.height) + 1)
    n = len(chosen)
    # A mark is two region letters, two age digits and three random letters: encode as one
    # integer so marks can be drawn unique; the delivery number fills the lowest "digit" so
    # marks first seen in different deliveries never clash (for the first 64 deliveries).
    space = _NR * _NR * len(_AGES) * _NX**3
    code = unique_integers(rng, n, 0, space // 64) * 64 + (k % 64)
    r1, rest = code % _NR, code // _NR
    r2, rest = rest % _NR, rest // _NR
    age, rest = rest % len(_AGES), rest // len(_AGES)
    x1, rest = rest % _NX, rest // _NX
    x2, x3 = rest % _NX, (rest // _NX) % _NX
    mark = pl.select(
        pl.format(
            "{}{}{} {}{}{}",
            pl.lit(letters(r1, N.REG_LETTERS)),
            pl.lit(letters(r2, N.REG_LETTERS)),
            pl.lit(pl.Series(_AGES[age])).cast(pl.String).str.zfill(2),
            pl.lit(letters(x1, N.REG_RANDOM_LETTERS)),
            pl.lit(letters(x2, N.REG_RANDOM_LETTERS)),
            pl.lit(letters(x3, N.REG_RANDOM_LETTERS)),
        )
    ).to_series()
    return pl.DataFrame(
        {
            "person_id": chosen,
            "vehicle_mark": mark,
            "make": pl.Series(N.MAKES).gather(rng.integers(0, len(N.MAKES), size=n)),
            "colour": pl.Series(N.COLOURS).gather(rng.integers(0, len(N.COLOURS), size=n)),
        }
    )


def render(ctx: Context, rows: pl.DataFrame, k: int) -> Rendered:
    p = ctx.people(k, rows["person_id"])
    nz = ctx.noiser(rows)
    name = noisy_names(nz, p, typo=0.012, nickname=0.02, maiden=0.15, swap=0.004)
    h = ctx.hostile(nz, k, p["person_id"])
    name = hostile_names(h, name)
    given = nz.initial(name.given, 0.04, "given_name_initial")
    dob = nz.swap_day_month(p["date_of_birth"], 0.012)
    dob = h.dob(nz.blank(dob, 0.01, "dob_missing"))
    addr = noisy_address(
        nz, p, stale=0.20, abbreviate=0.10, postcode_formats=(0.93, 0.05, 0.0, 0.02)
    )
    addr = hostile_address(h, addr)
    # Title: MR for men; MRS for women who married (a previous family name) else MS/MISS; some DR.
    titled = nz.mask("title", 0.6)
    doctor = nz.mask("doctor", 0.03)
    miss = nz.mask("miss", 0.4)
    middle_initial = nz.mask("middle_initial", 0.3)
    records = pl.DataFrame(
        {
            "rec": rows["rec"],
            "titled": titled,
            "doctor": doctor,
            "miss": miss,
            "mi": middle_initial,
            "sex": p["sex"],
            "married": p["previous_family_name"].is_not_null(),
            "given": given,
            "middle": name.middle,
            "family": name.family,
            "dob": dob,
            "line": addr.line,
            "flat": addr.flat,
            "town": addr.town,
            "postcode": addr.postcode,
            "vehicle_mark": rows["vehicle_mark"],
            "make": rows["make"],
            "colour": rows["colour"],
        }
    )
    title = (
        pl.when(~pl.col("titled"))
        .then(None)
        .when(pl.col("doctor"))
        .then(pl.lit("DR"))
        .when(pl.col("sex") == "M")
        .then(pl.lit("MR"))
        .when(pl.col("married"))
        .then(pl.lit("MRS"))
        .when(pl.col("miss"))
        .then(pl.lit("MISS"))
        .otherwise(pl.lit("MS"))
    )
    middle = pl.when(pl.col("mi")).then(pl.col("middle").str.slice(0, 1))
    records = records.select(
        pl.format("VK{}", (pl.col("rec") + 1).cast(pl.String).str.zfill(10)).alias(
            "keeper_record_id"
        ),
        # The register is upper-case ASCII: accents are dropped (MÜLLER -> MULLER).
        F.ascii_upper(
            pl.concat_str(
                [title, pl.col("given"), middle, pl.col("family")], separator=" ", ignore_nulls=True
            )
        ).alias("keeper_name"),
        F.strftime(pl.col("dob"), ctx.fmt("date_of_birth")).alias("date_of_birth"),
        F.with_flat(pl.col("flat"), pl.col("line")).alias("address"),
        "town",
        "postcode",
        "vehicle_mark",
        "make",
        "colour",
    )
    return Rendered(records, p["person_id"], no_phone(p.height), nz.tags())


BUILDER = Builder(sample=sample, render=render)
