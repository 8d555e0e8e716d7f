"""Partner nominals: "SMITH, John", alias/address/phone/marker lists, sparse dates of birth."""

from __future__ import annotations

import numpy as np
import polars as pl

from transforms.generate import formats as F
from transforms.generate import names as N
from transforms.generate.datasets.base import (
    Builder,
    Context,
    Rendered,
    newcomers,
    person_ids,
    pick_people,
)
from transforms.generate.datasets.common import hostile_names, mobile_forms, noisy_names
from transforms.generate.noise import Noiser

NOMINALS = 0.02  # share of people known to the unit
NEW_PER_DELIVERY = 0.05  # new nominals per delivery, relative to the first delivery's count


def sample(ctx: Context, k: int, rng: np.random.Generator, existing: pl.DataFrame) -> pl.DataFrame:
    people = ctx.world.people.filter(pl.col("age") >= 16)["person_id"].to_numpy()
    if k == 0:
        chosen = pick_people(rng, people, NOMINALS)
    else:
        first = int((existing["first"] == 0).sum()) if existing.height else 0
        chosen = newcomers(rng, people, person_ids(existing), max(1, int(NEW_PER_DELIVERY * first)))
    return pl.DataFrame({"person_id": chosen})


def _name(family: pl.Expr, given: pl.Expr) -> pl.Expr:
    """ "SMITH, John": surname upper case, forename in mixed case."""
    return pl.format("{}, {}", family.str.to_uppercase(), F.titlecase(given))


def _aliases(nz: Noiser, p: pl.DataFrame, family: pl.Series) -> pl.Expr:
    """Other names the person is known by: nickname, maiden name, another spelling, a typo."""
    nick = nz.nickname(p["given_name"], 0.5, "alias_nickname")
    alt = nz.alt_spelling(p["given_name"], 0.6, "alias_alt_spelling")
    typo = nz.typo(family, 0.15, "alias_typo")
    maiden = nz.mask("alias_maiden", 0.7) & p["previous_family_name"].is_not_null().to_numpy()
    nz.log.add("alias_maiden", maiden)
    cols = pl.DataFrame(
        {
            "family": family,
            "given": p["given_name"],
            "nick": nick,
            "alt": alt,
            "typo": typo,
            "maiden": maiden,
            "previous": p["previous_family_name"],
        }
    )
    parts = [
        pl.when(pl.col("nick") != pl.col("given")).then(_name(pl.col("family"), pl.col("nick"))),
        pl.when(pl.col("alt") != pl.col("given")).then(_name(pl.col("family"), pl.col("alt"))),
        pl.when(pl.col("typo") != pl.col("family")).then(_name(pl.col("typo"), pl.col("given"))),
        pl.when(pl.col("maiden")).then(_name(pl.col("previous"), pl.col("given"))),
    ]
    return cols.select(pl.concat_list(parts).list.drop_nulls().alias("aliases")).to_series()


def _where(mask: np.ndarray, values: pl.Series) -> pl.Series:
    """`values` where `mask`, else null."""
    return pl.select(pl.when(pl.lit(pl.Series(mask))).then(pl.lit(values))).to_series()


def render(ctx: Context, rows: pl.DataFrame, k: int) -> Rendered:
    p = ctx.people(k, rows["person_id"])
    nz = ctx.noiser(rows)
    name = noisy_names(nz, p, typo=0.01, nickname=0.05, swap=0.005)
    aliases = _aliases(nz, p, p["family_name"])
    dob = nz.swap_day_month(p["date_of_birth"], 0.01)
    dob = nz.blank(dob, 0.10, "dob_missing")
    gender = nz.blank(p["sex"].replace_strict({"M": "Male", "F": "Female"}), 0.02, "gender_missing")
    # Known addresses: current (usually) and previous (often); phones: mobile and landline.
    show_current = nz.mask("address_current", 0.9)
    show_previous = nz.mask("address_previous", 0.7)
    nz.log.add("current_address_missing", ~show_current)
    show_mobile = nz.mask("phone_mobile", 0.8) & p["mobile"].is_not_null().to_numpy()
    show_landline = nz.mask("phone_landline", 0.4) & p["landline"].is_not_null().to_numpy()
    # The profile's corruption: names, date of birth, the current postcode and the mobile as
    # shown; a name-and-town-only record keeps its name and its current town (below).
    h = ctx.hostile(nz, k, p["person_id"])
    name = hostile_names(h, name, middle=False)
    dob = h.dob(dob)
    postcode, mobile_e164, mobile_shown = p["postcode"], p["mobile"], show_mobile
    if h.active:
        postcode = h.postcode(_where(show_current, postcode))
        mobile_e164 = h.phone(_where(show_mobile, mobile_e164), "mobile")
        mobile_shown = mobile_e164.is_not_null().to_numpy()
    mobile = mobile_forms(nz, mobile_e164, [0.3, 0.4, 0.3, 0.0], "phone_format")
    markers = [
        pl.Series(N.WARNING_MARKERS).gather(
            nz.draws.integers(f"marker{i}", 0, len(N.WARNING_MARKERS))
        )
        for i in range(4)
    ]
    marker_rates = [0.6, 0.3, 0.15, 0.0]
    # A re-delivered nominal is an updated one: a further warning marker.
    revised = (rows["revision"] > 0).to_numpy()
    marker_on = [nz.mask(f"marker{i}_on", r) for i, r in enumerate(marker_rates[:3])] + [revised]
    nz.log.add("new_warning_marker", revised)
    cols = pl.DataFrame(
        {
            "rec": rows["rec"],
            "family": name.family,
            "given": name.given,
            "aliases": aliases,
            "dob": dob,
            "gender": gender,
            "cur": show_current,
            "prev": show_previous,
            "cur_addr": p["line_1"],
            "flat": p["flat"],
            "town": p["town"],
            "postcode": postcode,
            "prev_line": p["prev_line_1"],
            "prev_flat": p["prev_flat"],
            "prev_town": p["prev_town"],
            "prev_postcode": p["prev_postcode"],
            "show_mobile": mobile_shown,
            "show_landline": show_landline,
            "mobile": mobile,
            "landline": p["landline_national"],
            **{f"m{i}": markers[i] for i in range(4)},
            **{f"m{i}_on": marker_on[i] for i in range(4)},
        }
    )
    line = F.with_flat(pl.col("flat"), pl.col("cur_addr"))
    current = (
        pl.when(pl.col("postcode").is_null())
        .then(pl.format("{}, {}", line, pl.col("town")))
        .otherwise(F.one_line_address(line, pl.col("town"), pl.col("postcode")))
    )
    previous = F.one_line_address(
        F.with_flat(pl.col("prev_flat"), pl.col("prev_line")),
        pl.col("prev_town"),
        pl.col("prev_postcode"),
    )
    records = cols.select(
        pl.format("ROCU-{}", (pl.col("rec") + 1).cast(pl.String).str.zfill(7)).alias("nominal_id"),
        _name(pl.col("family"), pl.col("given")).alias("nominal_name"),
        "aliases",
        F.strftime(pl.col("dob"), ctx.fmt("date_of_birth")).alias("date_of_birth"),
        "gender",
        pl.concat_list(
            [pl.when(pl.col("cur")).then(current), pl.when(pl.col("prev")).then(previous)]
        )
        .list.drop_nulls()
        .alias("addresses"),
        pl.concat_list(
            [
                pl.when(pl.col("show_mobile")).then(pl.col("mobile")),
                pl.when(pl.col("show_landline")).then(pl.col("landline")),
            ]
        )
        .list.drop_nulls()
        .alias("phones"),
        pl.concat_list([pl.when(pl.col(f"m{i}_on")).then(pl.col(f"m{i}")) for i in range(4)])
        .list.drop_nulls()
        .list.unique(maintain_order=True)
        .alias("warning_markers"),
    )
    if h.sparse.any():
        sparse = pl.lit(pl.Series(h.sparse))
        empty = pl.lit([], dtype=pl.List(pl.String))
        records = records.with_columns(
            pl.when(sparse).then(empty).otherwise(pl.col("aliases")).alias("aliases"),
            pl.when(sparse).then(None).otherwise(pl.col("date_of_birth")).alias("date_of_birth"),
            pl.when(sparse).then(None).otherwise(pl.col("gender")).alias("gender"),
            pl.when(sparse)
            .then(pl.concat_list([pl.lit(p["town"])]))
            .otherwise(pl.col("addresses"))
            .alias("addresses"),
            pl.when(sparse).then(empty).otherwise(pl.col("phones")).alias("phones"),
        )
    phone = pl.select(
        pl.when(pl.lit(pl.Series(show_mobile)))
        .then(pl.lit(p["mobile"]))
        .when(pl.lit(pl.Series(show_landline)))
        .then(pl.lit(p["landline"]))
    ).to_series()
    return Rendered(records, p["person_id"], phone, nz.tags())


BUILDER = Builder(sample=sample, render=render)
