"""Classification that follows the lineage: every asset is at least as high as its inputs.

Roots (bronze datasets) take their catalogue classification; every other asset takes the highest
classification of its parents (high-water mark). Lowering is never a side effect: only an
explicit reclassification, recorded in `ops.reclassifications` (who, why, what), can set an
asset below its inputs, and its descendants then follow from the recorded level.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import polars as pl

from transforms.config import Environment
from transforms.contract import CLASSIFICATION_RANK, LOWEST, highest
from transforms.delta_io import read_path
from transforms.publish import append_frame


def propagate(
    parents: Mapping[str, set[str]],
    roots: Mapping[str, str],
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Classification of every asset in `parents` (asset -> its parents), high-water mark."""
    overrides = overrides or {}
    resolved: dict[str, str] = {}

    def level(asset: str, trail: tuple[str, ...] = ()) -> str:
        if asset in resolved:
            return resolved[asset]
        if asset in trail:
            raise ValueError(f"lineage cycle through {asset}")
        if asset in overrides:
            value = overrides[asset]
        elif asset in roots:
            value = roots[asset]
        else:
            ups = [level(p, (*trail, asset)) for p in sorted(parents.get(asset, set()))]
            value = highest(ups) if ups else LOWEST
        resolved[asset] = value
        return value

    for asset in parents:
        level(asset)
    return resolved


def reclassifications(env: Environment) -> dict[str, str]:
    """The latest recorded classification of every explicitly reclassified asset."""
    frame = read_path(env.table_path("ops.reclassifications"))
    if frame is None or frame.height == 0:
        return {}
    latest = frame.sort("at").unique("asset", keep="last")
    return dict(zip(latest["asset"], latest["to_classification"], strict=True))


def reclassify(
    env: Environment, asset: str, to: str, *, user: str, reason: str, current: str
) -> None:
    """Record an explicit change of an asset's classification (the only way to lower one)."""
    if to not in CLASSIFICATION_RANK:
        raise ValueError(
            f"unknown classification {to!r}; expected one of {sorted(CLASSIFICATION_RANK)}"
        )
    if not user.strip() or not reason.strip():
        raise ValueError("a reclassification needs a user and a reason")
    row = pl.DataFrame(
        [
            {
                "asset": asset,
                "from_classification": current,
                "to_classification": to,
                "user": user,
                "reason": reason,
                "at": datetime.now(UTC),
            }
        ]
    )
    append_frame(env, "ops.reclassifications", row, run_id=f"reclassify:{asset}")
