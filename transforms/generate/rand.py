"""Randomness: seeded child generators for sampling, counter-based draws for rendering.

Two kinds of randomness are needed:

* *sampling* (who is in a dataset, how many trips, which callee) uses `numpy.random.Generator`s
  derived from the run seed and a stable key (dataset name, delivery number), so adding a dataset
  or a delivery never changes the others;
* *rendering* noise (typo, nickname, stale address ...) must be a pure function of the record, so a
  record that persists across deliveries of a snapshot renders identically every time. `Draws`
  hashes (salt, record number, revision, slot) with splitmix64 to get per-record uniforms without
  keeping any state.
"""

from __future__ import annotations

import zlib

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def stable_key(text: str) -> int:
    """A process-independent integer for a name (Python's hash() is salted per process)."""
    return zlib.crc32(text.encode("utf-8"))


def child_rng(seed: int, *keys: str | int) -> np.random.Generator:
    """A generator for one purpose, e.g. child_rng(42, "electoral_roll", 3)."""
    words = [k if isinstance(k, int) else stable_key(k) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=tuple(words)))


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijection on uint64 that scrambles bits well (wraps on overflow)."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


class Draws:
    """Per-record uniforms keyed by record number and revision; one independent stream per slot."""

    def __init__(self, salt: int, records: np.ndarray, revisions: np.ndarray | None = None) -> None:
        keys = records.astype(np.uint64) * _GOLDEN
        if revisions is not None:
            keys ^= mix64(revisions.astype(np.uint64) + np.uint64(0x5BD1E995))
        self._keys = mix64(keys ^ np.uint64(salt & 0xFFFFFFFFFFFFFFFF))
        self.n = len(records)

    def subset(self, idx: np.ndarray) -> Draws:
        """The same per-record streams for the records at `idx` only (cheap draws for a few)."""
        out = object.__new__(Draws)
        out._keys = self._keys[idx]
        out.n = len(out._keys)
        return out

    def uniform(self, slot: str) -> np.ndarray:
        """Floats in [0, 1), a different independent stream for every slot name."""
        h = mix64(self._keys ^ mix64(np.array([stable_key(slot)], dtype=np.uint64)))
        return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))

    def mask(self, slot: str, rate: float | np.ndarray) -> np.ndarray:
        """True for about `rate` of the records."""
        return self.uniform(slot) < rate

    def integers(self, slot: str, low: int | np.ndarray, high: int | np.ndarray) -> np.ndarray:
        """Integers in [low, high) (bounds may be arrays)."""
        low_a = np.asarray(low, dtype=np.int64)
        span = np.asarray(high, dtype=np.int64) - low_a
        return low_a + np.floor(self.uniform(slot) * span).astype(np.int64)

    def choice(self, slot: str, weights: np.ndarray) -> np.ndarray:
        """Index into `weights` (need not be normalised)."""
        return weighted_index(self.uniform(slot), weights)


def weighted_index(u: np.ndarray, weights: np.ndarray | list[float]) -> np.ndarray:
    """Map uniforms to indices with probability proportional to `weights`."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def unique_integers(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """`n` distinct integers in [low, high) in random order (for phone numbers, passports ...)."""
    if high - low < n:
        raise ValueError(f"cannot draw {n} distinct integers from a range of {high - low}")
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        need = n - len(out)
        cand = rng.integers(low, high, size=need + need // 8 + 16, dtype=np.int64)
        both = np.concatenate([out, cand])
        _, first = np.unique(both, return_index=True)
        first.sort()
        out = both[first][:n]
    return out
