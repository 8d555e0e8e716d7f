"""Company officers: "Surname, Forename Middle" (Latin-1), month/year of birth, service address."""

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
from transforms.generate.population import make_addresses
from transforms.generate.rand import unique_integers

OFFICERS = 0.08  # share of adults holding an appointment
SECOND_APPOINTMENT = 0.2
OFFICE_ADDRESS = 0.15  # service address is the company's office, not home


def sample(ctx: Context, k: int, rng: np.random.Generator, existing: pl.DataFrame) -> pl.DataFrame:
    """Appointments: the person, the company and the office address stay fixed."""
    people = ctx.world.people
    adults = people.filter(pl.col("is_adult") & (pl.col("age") >= 20))["person_id"].to_numpy()
    if k == 0:
        chosen = pick_people(rng, adults, OFFICERS)
        chosen = np.sort(
            np.concatenate([chosen, chosen[rng.random(len(chosen)) < SECOND_APPOINTMENT]])
        )
    else:
        chosen = newcomers(rng, adults, person_ids(existing), int(0.005 * existing.height) + 1)
    n = len(chosen)
    # Company numbers: the first snapshot's range, then a fresh block per later delivery.
    low = 10**6 if k == 0 else 5 * 10**7 + k * 10**5
    number = unique_integers(rng, n, low, 5 * 10**7 if k == 0 else low + 10**5)
    scottish = rng.random(n) < 0.05
    word = pl.Series(N.COMPANY_WORDS).gather(rng.integers(0, len(N.COMPANY_WORDS), size=n))
    trade = pl.Series(N.COMPANY_TRADES).gather(rng.integers(0, len(N.COMPANY_TRADES), size=n))
    suffix = pl.Series(N.COMPANY_SUFFIXES).gather(rng.integers(0, len(N.COMPANY_SUFFIXES), size=n))
    family = people["family_name"].gather(chosen)
    office = make_addresses(rng, n)
    dob = people["date_of_birth"].gather(chosen).to_numpy().astype("datetime64[D]")
    start, end = window_bounds(ctx, np.full(n, k))
    earliest = np.maximum(
        dob + np.timedelta64(18 * 366, "D"), start - np.timedelta64(25 * 365, "D")
    )
    appointed = (
        dates_between(rng.random(n), earliest, start)
        if k == 0
        else dates_between(rng.random(n), start, end)
    )
    return pl.DataFrame(
        {
            "person_id": chosen,
            "company_number": pl.Series(number).cast(pl.String).str.zfill(8),
            "scottish": scottish,
            "name_style": rng.integers(0, 3, size=n),
            "word": word,
            "trade": trade,
            "suffix": suffix,
            "family": family,
            "role": pl.Series(["Director", "Secretary"]).gather(
                (rng.random(n) >= 0.85).astype(np.int64)
            ),
            "appointed": appointed,
            "office_line": office["line_1"],
            "office_town": office["town"],
            "office_postcode": office["postcode"],
        }
    ).select(
        "person_id",
        pl.when("scottish")
        .then(pl.format("SC{}", pl.col("company_number").str.slice(2)))
        .otherwise(pl.col("company_number"))
        .alias("company_number"),
        # Family firms carry the officer's surname: "SMITH & SONS LTD"; others are invented.
        pl.when(pl.col("name_style") == 0)
        .then(pl.format("{} {} {}", F.ascii_upper(pl.col("family")), "trade", "suffix"))
        .otherwise(pl.format("{} {} {}", "word", "trade", "suffix"))
        .alias("company_name"),
        "role",
        "appointed",
        "office_line",
        "office_town",
        "office_postcode",
    )


def render(ctx: Context, rows: pl.DataFrame, k: int) -> Rendered:
    p = ctx.people(k, rows["person_id"])
    nz = ctx.noiser(rows)
    name = noisy_names(nz, p, typo=0.012, maiden=0.25, swap=0.005, drop_middle=0.15)
    home = noisy_address(
        nz, p, stale=0.12, abbreviate=0.05, postcode_formats=(0.95, 0.03, 0.0, 0.02)
    )
    office = nz.mask("office_service_address", OFFICE_ADDRESS)
    nz.log.add("office_service_address", office)
    h = ctx.hostile(nz, k, p["person_id"])
    name = hostile_names(h, name)
    home = hostile_address(h, home)
    records = pl.DataFrame(
        {
            "rec": rows["rec"],
            "company_number": rows["company_number"],
            "company_name": rows["company_name"],
            "role": rows["role"],
            "appointed": rows["appointed"],
            "family": name.family,
            "given": name.given,
            "middle": name.middle,
            "dob": h.dob(p["date_of_birth"]),
            "office": office,
            "home_line": home.line,
            "home_flat": home.flat,
            "home_town": home.town,
            "home_postcode": home.postcode,
            "office_line": h.unless_sparse(rows["office_line"]),
            "office_town": rows["office_town"],
            "office_postcode": h.unless_sparse(rows["office_postcode"]),
        }
    ).select(
        F.hex_id(rows["rec"].to_numpy(), ctx.salt).alias("officer_id"),
        "company_number",
        "company_name",
        pl.concat_str(
            [
                F.titlecase(pl.col("family")),
                pl.lit(", "),
                pl.concat_str(
                    [F.titlecase(pl.col("given")), F.titlecase(pl.col("middle"))],
                    separator=" ",
                    ignore_nulls=True,
                ),
            ]
        ).alias("officer_name"),
        F.strftime(pl.col("dob"), ctx.fmt("birth_month_year")).alias("birth_month_year"),
        "role",
        pl.when("office")
        .then(pl.col("office_line"))
        .otherwise(F.with_flat(pl.col("home_flat"), pl.col("home_line")))
        .alias("service_address"),
        pl.when("office")
        .then(pl.col("office_town"))
        .otherwise(pl.col("home_town"))
        .alias("service_town"),
        pl.when("office")
        .then(pl.col("office_postcode"))
        .otherwise(pl.col("home_postcode"))
        .alias("service_postcode"),
        F.strftime(pl.col("appointed"), ctx.fmt("appointed_on")).alias("appointed_on"),
    )
    return Rendered(records, p["person_id"], no_phone(p.height), nz.tags())


BUILDER = Builder(sample=sample, render=render)
