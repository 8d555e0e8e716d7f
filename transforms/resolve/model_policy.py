"""When the entity-resolution model is trained, and what a training run leaves behind.

A routine run never trains. A candidate is trained when no model is approved, when asked
(`lakehouse train` passes a reason), or when a condition of `retrain` in
`catalogue/entity_resolution.yml` holds; the reason is recorded in `ops.er_models`. A candidate
that is not approved automatically comes with its diff against the approved model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from transforms.config import Environment
from transforms.delta_io import open_table
from transforms.resolve.config import ResolutionConfig
from transforms.resolve.model_diff import ModelDiff, diff_models
from transforms.resolve.pipeline import silver_features
from transforms.resolve.registry import approved_model, maybe_auto_approve, registry, save_model
from transforms.resolve.training import train_model


@dataclass(frozen=True)
class ModelOutcome:
    """What `maintain_model` did, with every figure the training asset reports."""

    trained: bool
    reason: str | None  # why a model was trained; None when none was
    note: str  # one line: what happened, or why nothing was trained
    version: int  # the model trained now, else the approved one
    approved_version: int | None  # after this run
    auto_approved: bool
    records: int  # silver person records now
    model_path: str
    blocking: pl.DataFrame | None  # blocking analysis of the trained model
    diff: ModelDiff | None  # a trained candidate against the approved model

    def to_dict(self) -> dict[str, Any]:
        """Plain scalars (diff figures prefixed `diff_`), e.g. for run metadata."""
        figures: dict[str, Any] = {
            "trained": self.trained,
            "reason": self.reason or "",
            "note": self.note,
            "version": self.version,
            "approved_version": -1 if self.approved_version is None else self.approved_version,
            "auto_approved": self.auto_approved,
            "records": self.records,
            "model_path": self.model_path,
        }
        if self.diff is not None:
            figures |= {f"diff_{k}": v for k, v in self.diff.to_dict().items()}
        return figures


def _decision(env: Environment, config: ResolutionConfig, records: int) -> tuple[str | None, str]:
    """(reason to train or None, one-line note) for `records` current silver person records."""
    book = registry(env)
    approved = book.filter(pl.col("event") == "approved").sort("version")
    if approved.height == 0:
        return "no approved model", "no approved model"
    latest = approved.row(-1, named=True)
    version, base = int(latest["version"]), int(latest["records"] or 0)
    share = config.retrain.record_growth
    growth = records / base - 1 if base else float("inf") if records else 0.0
    current = (
        f"approved model v{version} still current ({records} records, v{version} trained on {base})"
    )
    if share is None or growth <= share:
        return None, current
    pending = book.filter((pl.col("event") == "trained") & (pl.col("version") > version))
    if pending.height:
        candidate = pending.sort("version").row(-1, named=True)
        if records <= int(candidate["records"] or 0) * (1 + share):
            n = int(candidate["version"])
            return None, (
                f"candidate v{n} (trained on {candidate['records']} records) awaits approval: "
                f"`lakehouse models diff {n}`, then `lakehouse approve-model {n}`"
            )
    return (
        f"silver person records grew {growth:.0%} since approved model v{version} "
        f"({base} -> {records}), more than retrain.record_growth {share:.0%}"
    ), "trained"


def training_reason(env: Environment, config: ResolutionConfig, records: int) -> str | None:
    """Why a routine run should train now, or None (the approved model is still current).

    Reasons: no model is approved; silver person records grew by more than
    `retrain.record_growth` since the record count the approved model was trained on (unless a
    candidate trained within that share of the current count already awaits approval).
    """
    return _decision(env, config, records)[0]


def person_record_count(env: Environment) -> int:
    """Rows of silver.person_records (one feature row each), from the Parquet footers alone."""
    return open_table(env.table_path("silver.person_records")).to_pyarrow_dataset().count_rows()


def maintain_model(
    env: Environment, config: ResolutionConfig, run_id: str, *, reason: str | None = None
) -> ModelOutcome:
    """Train a candidate when a reason exists (or `reason` forces one), store and judge it.

    Counts the person records from file metadata and reads the features only to train; trains,
    saves (reason recorded), auto-approves per
    `training.auto_approve_first`, and diffs a candidate left for approval against the
    approved model. Without a reason nothing is written.
    """
    records = person_record_count(env)  # from the files' metadata: no features unless training
    note = "trained"
    if reason is None:
        reason, note = _decision(env, config, records)
    if reason is None:
        current = approved_model(env)  # there is one: without it there is a reason
        return ModelOutcome(
            trained=False,
            reason=None,
            note=note,
            version=current.version,
            approved_version=current.version,
            auto_approved=False,
            records=records,
            model_path=str(current.settings_path),
            blocking=None,
            diff=None,
        )
    features, _ = silver_features(env)
    trained = train_model(env, features, config)
    stored = save_model(
        env,
        trained.settings,
        trained.term_frequencies,
        trained.blocking_rules,
        records,
        run_id,
        reason=reason,
    )
    auto = maybe_auto_approve(env, config, stored, run_id)
    approved = _approved_versions(env)
    diff = (
        diff_models(env, config, stored.version, features=features)
        if approved and not auto
        else None
    )
    if auto:
        note = f"model v{stored.version} trained ({reason}) and approved automatically"
    elif approved:
        note = (
            f"candidate v{stored.version} trained ({reason}); approved model v{approved[-1]} "
            f"scores until `lakehouse approve-model {stored.version}`"
        )
    else:
        note = f"candidate v{stored.version} trained ({reason}); no model is approved"
    return ModelOutcome(
        trained=True,
        reason=reason,
        note=note,
        version=stored.version,
        approved_version=approved[-1] if approved else None,
        auto_approved=auto,
        records=records,
        model_path=str(stored.settings_path),
        blocking=trained.blocking,
        diff=diff,
    )


def _approved_versions(env: Environment) -> list[int]:
    approved = registry(env).filter(pl.col("event") == "approved")
    return sorted(int(v) for v in approved["version"])
