"""Delivery mechanics shared by every dataset: which records each delivery contains.

* `cut` (full snapshot): each delivery holds every record still present - a few drop out
  (`Builder.churn`), a few new ones appear (the builder's `sample` at k > 0) - and persisting
  records keep their number, hence their record id.
* `feed`: each delivery holds the records new at k plus ~`Builder.redeliver` of the earlier
  records re-delivered with a new revision (same id, changed values).

Records are numbered (`rec`) in order of first appearance; every later choice is made with a
generator keyed by (dataset, purpose, k), so delivery k never depends on how many follow it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from transforms.generate.datasets.base import Builder, Context, Rendered


@dataclass
class Delivery:
    """Delivery `k` of one dataset: the records in it and their rendering."""

    k: int
    rows: pl.DataFrame  # rec, first, revision, person_id, builder attributes
    rendered: Rendered


def iter_deliveries(ctx: Context, builder: Builder) -> Iterator[Delivery]:
    """Sample and render every delivery of one dataset in order."""
    present: pl.DataFrame | None = None  # cut: records in the last snapshot; feed: all so far
    next_rec = 0
    for k in range(len(ctx.delivery_dates)):
        existing = (
            present
            if present is not None
            else pl.DataFrame({"person_id": pl.Series([], dtype=pl.Int64)})
        )
        if ctx.contract.access == "cut" and present is not None and present.height:
            keep = ctx.rng("churn", k).random(present.height) >= builder.churn
            existing = present.filter(pl.Series(keep))
        new = builder.sample(ctx, k, ctx.rng("sample", k), existing)
        new = new.with_columns(
            pl.Series("rec", np.arange(next_rec, next_rec + new.height, dtype=np.int64)),
            pl.lit(k, dtype=pl.Int64).alias("first"),
            pl.lit(0, dtype=pl.Int64).alias("revision"),
        )
        next_rec += new.height
        if ctx.contract.access == "cut":
            rows = new if present is None else pl.concat([existing, new], how="vertical_relaxed")
            present = rows
        else:
            rows = new
            if present is not None and present.height:
                rng = ctx.rng("redeliver", k)
                again = rng.random(present.height) < builder.redeliver
                if not again.any() and new.height == 0:
                    again[rng.integers(present.height)] = True  # never deliver an empty file
                revised = present.filter(pl.Series(again)).with_columns(
                    pl.lit(k, dtype=pl.Int64).alias("revision")
                )
                rows = pl.concat([revised, new], how="vertical_relaxed")
            present = new if present is None else pl.concat([present, new], how="vertical_relaxed")
        rows = rows.sort("rec")
        yield Delivery(k, rows, builder.render(ctx, rows, k))
