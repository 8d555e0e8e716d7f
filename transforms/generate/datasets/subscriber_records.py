"""Mobile subscribers: "John Smith", MM/DD/YYYY dates of birth, MSISDN as +44... or 07...."""

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
    window_bounds,
)
from transforms.generate.datasets.common import (
    hostile_address,
    hostile_names,
    mobile_forms,
    noisy_address,
    noisy_names,
)


def sample(ctx: Context, k: int, rng: np.random.Generator, existing: pl.DataFrame) -> pl.DataFrame:
    """Accounts of people on the network from delivery k (one account per mobile)."""
    joined = ctx.world.people.filter(pl.col("csp_from") == k)["person_id"].to_numpy()
    n = len(joined)
    start, end = window_bounds(ctx, np.full(n, k))
    activated = (
        dates_between(
            rng.random(n), start - np.timedelta64(3650, "D"), start - np.timedelta64(1, "D")
        )
        if k == 0
        else dates_between(rng.random(n), start, end)
    )
    return pl.DataFrame(
        {"person_id": joined, "activated": activated, "imei": imei(rng.random(n), rng.random(n))}
    )


def imei(u_tac: np.ndarray, u_serial: np.ndarray) -> pl.Series:
    """15-digit IMEIs: a common handset type code, a serial and the Luhn check digit."""
    tacs = np.array([int(t) for t in N.IMEI_TACS], dtype=np.int64)
    body = tacs[np.floor(u_tac * len(tacs)).astype(np.int64)] * 10**6 + np.floor(
        u_serial * 10**6
    ).astype(np.int64)
    # Luhn over the 14-digit body: double every second digit counting from the right.
    digits = (body[:, None] // (10 ** np.arange(14, dtype=np.int64))[None, :]) % 10  # right to left
    doubled = digits.copy()
    doubled[:, 0::2] *= 2
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    check = (10 - doubled.sum(axis=1) % 10) % 10
    return pl.Series("imei", body * 10 + check).cast(pl.String).str.zfill(15)


def render(ctx: Context, rows: pl.DataFrame, k: int) -> Rendered:
    p = ctx.people(k, rows["person_id"])
    nz = ctx.noiser(rows)
    revised = (rows["revision"] > 0).to_numpy()
    name = noisy_names(nz, p, typo=0.02, nickname=0.05, maiden=0.20, swap=0.01)
    dob = nz.swap_day_month(p["date_of_birth"], 0.02)
    dob = nz.blank(dob, 0.03, "dob_missing")
    # A re-delivered account is an updated one: current address and e-mail.
    addr = noisy_address(
        nz,
        p,
        stale=np.where(revised, 0.0, 0.25),
        abbreviate=0.05,
        postcode_formats=(0.9, 0.05, 0.04, 0.01),
    )
    email = nz.blank(p["email"], np.where(revised, 0.0, 0.10), "email_missing")
    h = ctx.hostile(nz, k, p["person_id"])
    name = hostile_names(h, name)
    dob = h.dob(dob)
    addr = hostile_address(h, addr)
    email = h.missing(email, "email", "email_missing")
    msisdn = mobile_forms(nz, h.phone(p["mobile"], "mobile"), [0.5, 0.5], "msisdn_format")
    middle_initial = nz.mask("middle_initial", 0.2)
    # ... and a new handset.
    again = np.flatnonzero(revised)
    handsets = rows["imei"].clone()
    if len(again):
        fresh = imei(
            nz.draws.uniform("new_handset_type")[again],
            nz.draws.uniform("new_handset_serial")[again],
        )
        handsets.scatter(again, fresh)
    nz.log.add("new_handset", revised)
    records = pl.DataFrame(
        {
            "rec": rows["rec"],
            "given": name.given,
            "mi": middle_initial,
            "middle": name.middle,
            "family": name.family,
            "dob": dob,
            "line": addr.line,
            "flat": addr.flat,
            "town": addr.town,
            "postcode": addr.postcode,
            "msisdn": msisdn,
            "email": email,
            "imei": h.unless_sparse(handsets),
            "activated": rows["activated"],
        }
    ).select(
        pl.format("ACC{}", (pl.col("rec") + 1).cast(pl.String).str.zfill(9)).alias("account_id"),
        pl.concat_str(
            [
                F.titlecase(pl.col("given")),
                pl.when(pl.col("mi")).then(pl.col("middle").str.slice(0, 1)),
                F.titlecase(pl.col("family")),
            ],
            separator=" ",
            ignore_nulls=True,
        ).alias("subscriber_name"),
        F.strftime(pl.col("dob"), ctx.fmt("date_of_birth")).alias("date_of_birth"),
        F.with_flat(pl.col("flat"), pl.col("line")).alias("address_line"),
        "town",
        "postcode",
        "msisdn",
        "email",
        "imei",
        F.strftime(pl.col("activated"), ctx.fmt("activated_on")).alias("activated_on"),
    )
    return Rendered(records, p["person_id"], p["mobile"], nz.tags())


BUILDER = Builder(sample=sample, render=render)
