"""Entity-resolution settings from `catalogue/entity_resolution.yml`, validated."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from transforms.catalogue import CatalogueError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Blocking(_Strict):
    candidates: list[str] = Field(min_length=1)
    max_comparisons_per_record: float = Field(gt=0)


class Training(_Strict):
    seed: int = 42
    u_max_pairs: float = Field(default=2e6, gt=0)
    u_chunks: int = Field(default=10, ge=1)
    max_records: int = Field(default=250_000, gt=1)
    deterministic_rules: list[list[str]] = Field(min_length=1)
    deterministic_recall: float = Field(default=0.8, gt=0, le=1)
    em_blocking: list[list[str]] = Field(min_length=1)
    auto_approve_first: bool = True


class Retrain(_Strict):
    """When a routine run trains a new candidate (besides "no approved model" and `lakehouse train`).

    `record_growth`: train when silver person records grew by more than this share (0.5 = 50%)
    since the record count the approved model was trained on; None never retrains on growth.
    """

    record_growth: float | None = Field(default=None, gt=0)


class GenericValues(_Strict):
    """The most records one identifier may have before it is generic, per identifier kind.

    A value held by more records than its kind's number (a switchboard, a hostel's address, a
    test passport number) is no evidence about who anyone is (transforms/resolve/generic_values.py).
    """

    phone: int = Field(ge=2)
    address: int = Field(ge=2)
    email: int = Field(ge=2)
    document: int = Field(ge=2)


class ResolutionConfig(_Strict):
    threshold_match_probability: float = Field(gt=0, lt=1)
    evidence_threshold: float = Field(gt=0, lt=1)
    search_threshold: float = Field(gt=0, lt=1)
    f1_floor: float = Field(ge=0, le=1)
    blocking: Blocking
    training: Training
    retrain: Retrain = Field(default_factory=Retrain)
    generic_values: GenericValues

    @model_validator(mode="after")
    def _evidence_covers_clustering(self) -> ResolutionConfig:
        # Clustering reads the stored evidence, so it must hold every pair clustering may use.
        if self.evidence_threshold > self.threshold_match_probability:
            raise ValueError(
                f"evidence_threshold {self.evidence_threshold} must not exceed "
                f"threshold_match_probability {self.threshold_match_probability}"
            )
        return self


def load_resolution_config(catalogue_dir: Path) -> ResolutionConfig:
    """Read and validate the settings; errors name the file and the key."""
    path = catalogue_dir / "entity_resolution.yml"
    try:
        return ResolutionConfig.model_validate(yaml.safe_load(path.read_text()))
    except FileNotFoundError as exc:
        raise CatalogueError(f"{path}: entity resolution settings not found") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise CatalogueError(f"{path}: {problems}") from exc
