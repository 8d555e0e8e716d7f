"""Call detail records between subscribers, mostly within households and circles of friends."""

from __future__ import annotations

import numpy as np
import polars as pl

from transforms.generate import formats as F
from transforms.generate.datasets.base import Builder, Context, Rendered, window_bounds
from transforms.generate.datasets.common import mobile_forms

CALLS_PER_SUBSCRIBER = 3.5
FRIEND_GROUP = 8  # people per circle of friends
CALLEE_MODES = (0.30, 0.45, 0.25)  # household member, friend, anyone
# Calls by hour of day (local): quiet at night, busy in the day and evening.
HOURLY = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 5, 6, 6, 6, 7, 6, 6, 6, 7, 8, 9, 9, 8, 6, 4, 2]
)
MNC = "10"


def _friend_group(ctx: Context) -> np.ndarray:
    """Each person's circle of friends: a fixed random partition of the population."""
    perm = ctx.rng("friends").permutation(ctx.world.size)
    return perm // FRIEND_GROUP


def _pick_within(keys: np.ndarray, caller: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of a uniformly chosen *other* member sharing the caller's key, -1 if none.

    `keys[i]` is member i's household or circle (small non-negative ints); `caller` holds
    member indices. Members are bucketed by key with a counting sort, so no searching.
    """
    order = np.argsort(keys, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    counts = np.bincount(keys)
    starts = np.cumsum(counts) - counts
    lo = starts[keys[caller]]
    others = counts[keys[caller]] - 1
    j = np.floor(u * np.maximum(others, 1)).astype(np.int64)
    j += j >= rank[caller] - lo  # skip the caller's own slot
    return np.where(others > 0, order[np.minimum(lo + j, len(order) - 1)], -1)


def sample(ctx: Context, k: int, rng: np.random.Generator, existing: pl.DataFrame) -> pl.DataFrame:
    """The calls made in period k: ~3 per subscriber on the network at k."""
    state = ctx.world.state(k)
    subs = state.filter(pl.col("csp_from") <= k)
    members = subs["person_id"].to_numpy()
    if len(members) < 2:
        return pl.DataFrame({"person_id": pl.Series([], dtype=pl.Int64)})
    households = subs["household_id"].to_numpy()
    friends = _friend_group(ctx)[members]

    calls = rng.poisson(CALLS_PER_SUBSCRIBER, size=len(members))
    idx = np.repeat(np.arange(len(members)), calls)
    caller = members[idx]
    n = len(caller)
    mode = np.searchsorted(np.cumsum(CALLEE_MODES), rng.random(n) * sum(CALLEE_MODES), side="right")
    same_house = _pick_within(households, idx, rng.random(n))
    friend = _pick_within(friends, idx, rng.random(n))
    j = rng.integers(0, len(members) - 1, size=n)
    anyone = j + (j >= idx)  # anyone but the caller
    # Household member if asked for and there is one, else a friend, else anyone.
    chosen = np.where(mode == 0, same_house, -1)
    chosen = np.where((chosen < 0) & (mode <= 1), friend, chosen)
    callee = members[np.where(chosen < 0, anyone, chosen)]

    start, _ = window_bounds(ctx, np.full(n, k))
    day = rng.integers(0, ctx.interval_days, size=n)
    hour = np.searchsorted(np.cumsum(HOURLY), rng.random(n) * HOURLY.sum(), side="right")
    second_of_day = hour * 3600 + rng.integers(0, 3600, size=n)
    moment = start.astype("datetime64[s]") + (day * 86400 + second_of_day).astype("timedelta64[s]")
    answered = rng.random(n) >= 0.15
    duration = np.where(
        answered, np.clip(rng.lognormal(np.log(70), 1.1, size=n), 1, 7200), 0
    ).astype(np.int64)
    town = state["town_index"].to_numpy()[caller]
    lac = 1000 + (town * 211 + rng.integers(0, 25, size=n)) % 8999
    return pl.DataFrame(
        {
            "person_id": caller,
            "callee_person_id": callee,
            "start": moment.astype("datetime64[ms]"),
            "duration": duration,
            "cell": pl.Series(lac).cast(pl.String),
            "cell_no": pl.Series(rng.integers(0, 100_000, size=n)).cast(pl.String).str.zfill(5),
        }
    ).select(
        "person_id",
        "callee_person_id",
        "start",
        "duration",
        pl.format("234-{}-{}-{}", pl.lit(MNC), "cell", "cell_no").alias("cell_id"),
    )


def render(ctx: Context, rows: pl.DataFrame, k: int) -> Rendered:
    state = ctx.world.state(k)
    nz = ctx.noiser(rows)
    caller = state["mobile"].gather(rows["person_id"].to_numpy())
    callee = state["mobile"].gather(rows["callee_person_id"].to_numpy())
    # A re-delivered record is a corrected one: the switch re-rated the call's duration.
    fix = np.where((rows["revision"] > 0).to_numpy(), nz.draws.integers("rerated", 1, 30), 0)
    nz.log.add("rerated_duration", fix > 0)
    records = pl.DataFrame(
        {
            "cdr_id": F.hex_id(rows["rec"].to_numpy(), ctx.salt),
            "caller_msisdn": mobile_forms(nz, caller, [0.6, 0.4], "caller_format"),
            "callee_msisdn": mobile_forms(nz, callee, [0.6, 0.4], "callee_format"),
            "start": rows["start"],
            "duration_s": rows["duration"] + fix,
            "cell_id": rows["cell_id"],
        }
    ).with_columns(
        F.strftime(pl.col("start"), ctx.fmt("start_time_local")).alias("start_time_local")
    )
    return Rendered(
        records.drop("start"),
        rows["person_id"],
        caller,
        nz.tags(),
        extra={"callee_person_id": rows["callee_person_id"]},
    )


BUILDER = Builder(sample=sample, render=render)
