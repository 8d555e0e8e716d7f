"""What a dataset builder is, and the context it is given.

A builder has two jobs:

* `sample(ctx, k, rng, existing)` - which *new* records appear at delivery k (person ids plus
  any attributes that must stay fixed for the record's life, e.g. a trip's flight);
* `render(ctx, rows, k)` - turn records into the delivered columns, with noise, as at delivery k.

The delivery mechanics (snapshot churn for `cut`, new records plus re-deliveries for `feed`,
record numbering, truth, writing) are generic and live in `transforms.generate.deliveries`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from transforms.generate.contracts import Contract
from transforms.generate.hostile import Hostile
from transforms.generate.noise import Noiser
from transforms.generate.population import World
from transforms.generate.profiles import DEFAULT, NoiseProfile
from transforms.generate.rand import Draws, child_rng, stable_key


@dataclass(frozen=True)
class Context:
    """Everything a builder may read: its contract, the world, the run's seed and dates, and
    the noise profile (the error kinds added to the dataset's own noise)."""

    contract: Contract
    world: World
    seed: int
    delivery_dates: tuple[date, ...]
    interval_days: int
    profile: NoiseProfile = DEFAULT

    @property
    def name(self) -> str:
        return self.contract.name

    @property
    def salt(self) -> int:
        return (self.seed * 1_000_003) ^ (stable_key(self.name) << 20)

    def rng(self, *keys: str | int) -> np.random.Generator:
        """A sampling generator private to this dataset and purpose."""
        return child_rng(self.seed, self.name, *keys)

    def fmt(self, column: str) -> str:
        """The contract's `format` for a column (e.g. a strftime pattern)."""
        fmt = self.contract.column(column).format
        if fmt is None:
            raise ValueError(f"{self.name}.{column} has no format in the catalogue")
        return fmt

    def noiser(self, rows: pl.DataFrame) -> Noiser:
        """Per-record noise keyed by record number and revision (stable across deliveries)."""
        return Noiser(Draws(self.salt, rows["rec"].to_numpy(), rows["revision"].to_numpy()))

    def hostile(self, nz: Noiser, k: int, person_id: pl.Series, *, town: bool = True) -> Hostile:
        """The profile's whole-value corruption for one rendering (inert for `default`);
        `town`: the dataset delivers a town, so a record may keep only its name and town."""
        return Hostile(
            nz,
            self.profile,
            self.world.state(k),
            person_id.to_numpy(),
            self.delivery_dates[k],
            town=town,
        )

    def people(self, k: int, person_id: pl.Series | np.ndarray) -> pl.DataFrame:
        """Population attributes as at delivery k, one row per given person id."""
        idx = person_id.to_numpy() if isinstance(person_id, pl.Series) else person_id
        return self.world.state(k)[idx]

    def window(self, k: int) -> tuple[date, date]:
        """The period a delivery covers: [delivery date - interval, delivery date)."""
        end = self.delivery_dates[k]
        return end - timedelta(days=self.interval_days), end


@dataclass
class Rendered:
    """A rendered delivery: the file's rows and, aligned row by row, what truth needs."""

    records: pl.DataFrame
    person_id: pl.Series
    phone: pl.Series  # E.164 of the phone the record carries, or null
    noise: pl.Series  # list of noise tags per record
    extra: dict[str, pl.Series] = field(default_factory=dict)  # e.g. callee_person_id


SampleFn = Callable[[Context, int, np.random.Generator, pl.DataFrame], pl.DataFrame]
RenderFn = Callable[[Context, pl.DataFrame, int], Rendered]


@dataclass(frozen=True)
class Builder:
    """One dataset's sampling and rendering functions."""

    sample: SampleFn
    render: RenderFn
    churn: float = 0.005  # cut datasets: share of records dropping out per delivery
    redeliver: float = 0.01  # feed datasets: share of earlier records re-delivered changed


def pick_people(rng: np.random.Generator, candidates: np.ndarray, rate: float) -> np.ndarray:
    """Each candidate person id independently with probability `rate` (sorted ids)."""
    return candidates[rng.random(len(candidates)) < rate]


def newcomers(
    rng: np.random.Generator, candidates: np.ndarray, existing: np.ndarray, count: int
) -> np.ndarray:
    """Up to `count` candidates not already present, for records appearing in a later snapshot."""
    pool = np.setdiff1d(candidates, existing)
    count = min(count, len(pool))
    return np.sort(rng.choice(pool, size=count, replace=False)) if count else pool[:0]


def dates_between(u: np.ndarray, low: np.ndarray | date, high: np.ndarray | date) -> pl.Series:
    """Dates uniformly in [low, high) (numpy datetime64 arithmetic)."""
    lo = np.asarray(low, dtype="datetime64[D]")
    hi = np.asarray(high, dtype="datetime64[D]")
    span = np.maximum((hi - lo).astype(np.int64), 1)
    return pl.Series(lo + np.floor(u * span).astype(np.int64).astype("timedelta64[D]"))


def person_ids(frame: pl.DataFrame) -> np.ndarray:
    return frame["person_id"].to_numpy() if frame.height else np.zeros(0, dtype=np.int64)


def window_bounds(ctx: Context, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per record, the covered period [start, end) of the delivery it first appeared in."""
    ends = np.array(ctx.delivery_dates, dtype="datetime64[D]")
    return (ends - np.timedelta64(ctx.interval_days, "D"))[first], ends[first]


def no_phone(n: int) -> pl.Series:
    return pl.Series("phone", [None] * n, dtype=pl.String)


def letters(idx: np.ndarray, alphabet: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ") -> pl.Series:
    """Letters of `alphabet` at the given positions."""
    return pl.Series(list(alphabet), dtype=pl.String).gather(idx)
