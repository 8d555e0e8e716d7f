"""Vectorised noise: typos, nicknames, swapped or initialled names, nulls, stale values, dates.

A `Noiser` wraps the per-record `Draws` of one rendering and a `NoiseLog`, so every perturbation
is reproducible per record and is recorded (as a tag per record) for the truth table. Each call
names a slot; the slot is both the random stream and the tag written to truth. Work is done only
on the selected rows and scattered back, so rare noise costs little on large frames.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from transforms.generate import names as N
from transforms.generate.rand import Draws

_NICKNAMES = {k: "|".join(v) for k, v in N.NICKNAMES.items()}
_ALT_SPELLINGS = {k: "|".join(v) for k, v in N.ALT_SPELLINGS.items()}


class NoiseLog:
    """Which noise hit which record: becomes the truth table's `noise` list column."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._tags: list[tuple[str, np.ndarray]] = []

    def add(self, tag: str, rows: np.ndarray) -> None:
        """Record `tag` for rows given as a boolean mask or as indices."""
        rows = np.asarray(rows)
        if rows.dtype != bool:
            mask = np.zeros(self.n, dtype=bool)
            mask[rows] = True
            rows = mask
        if rows.any():
            self._tags.append((tag, rows))

    def has(self, tag: str) -> np.ndarray:
        """Boolean mask of the records `tag` has been recorded for."""
        out = np.zeros(self.n, dtype=bool)
        for t, mask in self._tags:
            if t == tag:
                out |= mask
        return out

    def series(self) -> pl.Series:
        """Tags as a list column. Records are grouped by their combination of tags (a bit
        pattern), so lists are built once per distinct combination, not once per record."""
        code = np.zeros(self.n, dtype=np.uint64)
        for bit, (_, mask) in enumerate(self._tags):
            code |= mask.astype(np.uint64) << np.uint64(bit)
        patterns, inverse = np.unique(code, return_inverse=True)
        lists = [
            [tag for bit, (tag, _) in enumerate(self._tags) if int(p) >> bit & 1] for p in patterns
        ]
        table = pl.Series("noise", lists, dtype=pl.List(pl.String))
        return table.gather(inverse.astype(np.int64))


def _scatter(series: pl.Series, idx: np.ndarray, values: pl.Series) -> pl.Series:
    out = series.clone()
    if len(idx):
        out.scatter(idx, values)
    return out


class Noiser:
    """Per-record noise for one rendering of one dataset delivery."""

    def __init__(self, draws: Draws) -> None:
        self.draws = draws
        self.log = NoiseLog(draws.n)

    @property
    def n(self) -> int:
        return self.draws.n

    def mask(self, slot: str, rate: float | np.ndarray) -> np.ndarray:
        return self.draws.mask(slot, rate)

    def pick(self, slot: str, weights: list[float] | np.ndarray) -> np.ndarray:
        """Per-record category index, e.g. which of several formats to use."""
        return self.draws.choice(slot, np.asarray(weights, dtype=np.float64))

    def typo(self, s: pl.Series, rate: float, tag: str) -> pl.Series:
        """Adjacent transposition, dropped or doubled letter (never the first letter)."""
        lens = s.str.len_chars().fill_null(0).to_numpy()
        idx = np.flatnonzero(self.draws.mask(tag, rate) & (lens >= 3))
        if len(idx) == 0:
            return s
        sub = pl.DataFrame(
            {
                "s": s.gather(idx),
                "k": self.draws.integers(f"{tag}:kind", 0, 3)[idx],
                "p": 1
                + np.floor(self.draws.uniform(f"{tag}:pos")[idx] * (lens[idx] - 2)).astype(
                    np.int64
                ),
            }
        )
        col, p = pl.col("s"), pl.col("p")
        new = sub.select(
            pl.when(pl.col("k") == 0)
            .then(
                pl.concat_str(
                    [
                        col.str.slice(0, p),
                        col.str.slice(p + 1, 1),
                        col.str.slice(p, 1),
                        col.str.slice(p + 2),
                    ]
                )
            )
            .when(pl.col("k") == 1)
            .then(pl.concat_str([col.str.slice(0, p), col.str.slice(p + 1)]))
            .otherwise(pl.concat_str([col.str.slice(0, p + 1), col.str.slice(p)]))
        ).to_series()
        changed = (new != sub["s"]).fill_null(False).to_numpy()
        self.log.add(tag, idx[changed])
        return _scatter(s, idx[changed], new.filter(pl.Series(changed)))

    def _mapped(self, s: pl.Series, rate: float, tag: str, mapping: dict[str, str]) -> pl.Series:
        idx = np.flatnonzero(self.draws.mask(tag, rate))
        if len(idx) == 0:
            return s
        sub = pl.DataFrame({"s": s.gather(idx), "u": self.draws.uniform(f"{tag}:which")[idx]})
        options = (
            pl.col("s").replace_strict(mapping, default=None, return_dtype=pl.String).str.split("|")
        )
        new = sub.select(
            options.list.get((pl.col("u") * options.list.len()).cast(pl.Int64), null_on_oob=True)
        ).to_series()
        hit = new.is_not_null().to_numpy()
        self.log.add(tag, idx[hit])
        return _scatter(s, idx[hit], new.filter(pl.Series(hit)))

    def nickname(self, given: pl.Series, rate: float, tag: str = "nickname") -> pl.Series:
        """ROBERT -> BOB/ROB/BOBBY etc. for names that have a nickname (upper-case input)."""
        return self._mapped(given, rate, tag, _NICKNAMES)

    def alt_spelling(self, given: pl.Series, rate: float, tag: str = "alt_spelling") -> pl.Series:
        """MOHAMMED -> MUHAMMAD, STEPHEN -> STEVEN ..."""
        return self._mapped(given, rate, tag, _ALT_SPELLINGS)

    def initial(self, s: pl.Series, rate: float, tag: str) -> pl.Series:
        """Keep only the first letter."""
        m = self.draws.mask(tag, rate) & s.is_not_null().to_numpy()
        self.log.add(tag, m)
        return (
            pl.select(pl.when(pl.lit(pl.Series(m))).then(s.str.slice(0, 1)).otherwise(s))
            .to_series()
            .alias(s.name)
        )

    def blank(self, s: pl.Series, rate: float | np.ndarray, tag: str) -> pl.Series:
        """Null out a field."""
        idx = np.flatnonzero(self.draws.mask(tag, rate) & s.is_not_null().to_numpy())
        self.log.add(tag, idx)
        out = s.clone()
        if len(idx):
            out.scatter(idx, None)
        return out

    def substitute(
        self, s: pl.Series, alternative: pl.Series, rate: float, tag: str
    ) -> tuple[pl.Series, np.ndarray]:
        """Use `alternative` (e.g. maiden name) where present for ~`rate` of those records.

        Returns the new series and the mask, so related columns can follow the same choice.
        """
        m = self.draws.mask(tag, rate) & alternative.is_not_null().to_numpy()
        self.log.add(tag, m)
        return pl.select(
            pl.when(pl.lit(pl.Series(m))).then(alternative).otherwise(s)
        ).to_series().alias(s.name), m

    def swap(
        self, a: pl.Series, b: pl.Series, rate: float, tag: str = "swapped_names"
    ) -> tuple[pl.Series, pl.Series]:
        """Swap two columns (given/family name) on ~`rate` of records."""
        m = pl.Series(self.draws.mask(tag, rate))
        self.log.add(tag, m.to_numpy())
        return (
            pl.select(pl.when(pl.lit(m)).then(b).otherwise(a)).to_series().alias(a.name),
            pl.select(pl.when(pl.lit(m)).then(a).otherwise(b)).to_series().alias(b.name),
        )

    def swap_day_month(
        self, dates: pl.Series, rate: float, tag: str = "dob_day_month_swapped"
    ) -> pl.Series:
        """Transpose day and month where the day is <= 12 (so the date still parses)."""
        d = pl.DataFrame({"d": dates, "m": self.draws.mask(tag, rate)})
        day, month = pl.col("d").dt.day(), pl.col("d").dt.month()
        hit = pl.col("m") & (day <= 12) & (day != month)
        out = d.select(
            pl.when(hit)
            .then(pl.date(pl.col("d").dt.year(), day, month))
            .otherwise(pl.col("d"))
            .alias(dates.name),
            hit.fill_null(False).alias("hit"),
        )
        self.log.add(tag, out["hit"].to_numpy())
        return out[dates.name]

    def tags(self) -> pl.Series:
        return self.log.series()
