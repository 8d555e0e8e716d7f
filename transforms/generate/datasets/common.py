"""Noisy names and addresses: the perturbations most datasets share, at per-dataset rates.

Rates for `maiden` and `stale` are conditional: the share of records *whose person has* a previous
family name / previous address that show the old one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from transforms.generate import formats as F
from transforms.generate.hostile import Hostile
from transforms.generate.noise import Noiser


@dataclass
class Names:
    """Upper-case (accented) name parts after noise; middle may be null."""

    given: pl.Series
    middle: pl.Series
    family: pl.Series


@dataclass
class Address:
    """Address parts after noise: `line` is "12 High Street", `flat` "Flat 3" or null."""

    line: pl.Series
    flat: pl.Series
    town: pl.Series
    postcode: pl.Series


def noisy_names(
    nz: Noiser,
    p: pl.DataFrame,
    *,
    typo: float = 0.0,
    nickname: float = 0.0,
    maiden: float = 0.0,
    swap: float = 0.0,
    drop_middle: float = 0.0,
) -> Names:
    """Given/middle/family names with maiden names, nicknames, typos, dropped middles, swaps."""
    family, _ = nz.substitute(p["family_name"], p["previous_family_name"], maiden, "maiden_name")
    given = nz.nickname(p["given_name"], nickname)
    given = nz.typo(given, typo, "typo_given_name")
    family = nz.typo(family, typo, "typo_family_name")
    middle = nz.blank(p["middle_names"], drop_middle, "middle_name_missing")
    given, family = nz.swap(given, family, swap)
    return Names(given, middle, family)


def noisy_address(
    nz: Noiser,
    p: pl.DataFrame,
    *,
    stale: float | np.ndarray = 0.0,
    abbreviate: float | np.ndarray = 0.0,
    postcode_formats: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0),
) -> Address:
    """Current (or, for `stale` of movers, previous) address; abbreviated street types and
    postcode variants (as issued / no space / lower case / double space)."""
    old = nz.mask("stale_address", stale) & p["prev_postcode"].is_not_null().to_numpy()
    nz.log.add("stale_address", old)
    short = nz.mask("street_abbreviated", abbreviate)
    nz.log.add("street_abbreviated", short)
    variant = nz.pick("postcode_format", list(postcode_formats))
    nz.log.add("postcode_format", variant != 0)

    def choose(col: str) -> pl.Expr:
        return pl.when(pl.col("_old")).then(pl.col(f"prev_{col}")).otherwise(pl.col(col))

    out = p.with_columns(
        pl.Series("_old", old), pl.Series("_short", short), pl.Series("_pc", variant)
    ).select(
        F.street_line(
            choose("house_number"), choose("street_name"), choose("street_type"), pl.col("_short")
        ).alias("line"),
        choose("flat").alias("flat"),
        choose("town").alias("town"),
        F.postcode_variant(choose("postcode"), pl.col("_pc")).alias("postcode"),
    )
    return Address(out["line"], out["flat"], out["town"], out["postcode"])


def hostile_names(h: Hostile, name: Names, *, middle: bool = True) -> Names:
    """The profile's name corruption (`middle`: the dataset delivers middle names)."""
    given, mid, family = h.names(name.given, name.middle if middle else None, name.family)
    return Names(given, name.middle if mid is None else mid, family)


def hostile_address(h: Hostile, addr: Address) -> Address:
    """The profile's postcode corruption; only the town left on a name-and-town-only record."""
    return Address(
        h.unless_sparse(addr.line), h.unless_sparse(addr.flat), addr.town, h.postcode(addr.postcode)
    )


def mobile_forms(nz: Noiser, e164: pl.Series, weights: list[float], slot: str) -> pl.Series:
    """Write each mobile in one of the F.phone_variant forms, chosen per record by `weights`."""
    choice = nz.pick(slot, weights)
    used = tuple(i for i, w in enumerate(weights) if w > 0)
    return pl.select(F.phone_variant(pl.lit(e164), pl.lit(pl.Series(choice)), used)).to_series()
