"""The data catalogue: one validated YAML entry per dataset (SCHEMA.md §1).

Dataset metadata lives only in `catalogue/*.yml`; code reads it through `load_catalogue`.
Validation errors name the file and the key, so a steward can fix the entry at once.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from transforms.contract import CLASSIFICATION_RANK as CLASSIFICATION_RANK  # re-exported
from transforms.contract import Classification as Classification
from transforms.contract import highest as highest
from transforms.schedules import is_cron as is_cron  # re-exported (partners)

ColumnType = Literal["string", "int64", "float64", "bool", "date", "timestamp", "list<string>"]
NOT_DATASETS = {"users", "entity_resolution"}
CRON_FORMS = "valid cron schedule (5 fields such as '0 9 * * MON', or '@daily')"
_OWNER = re.compile(r"^(team:[A-Za-z0-9_\-]+|[^@\s]+@[^@\s]+\.[^@\s]+)$")


class CatalogueError(ValueError):
    """A catalogue entry is invalid; the message names the file and the key."""


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Authorisation(_Strict):
    """The panel decision that allows the dataset to be used, and until when."""

    reference: str = Field(min_length=1)
    approved_on: date
    expires_on: date
    purpose: str = Field(min_length=1)

    def is_current(self, today: date) -> bool:
        return self.approved_on <= today <= self.expires_on


class Source(_Strict):
    """How the delivered files are read."""

    format: Literal["csv", "jsonl", "parquet"]
    glob: str = Field(min_length=1)
    separator: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8"
    has_header: bool = True
    record_id: Annotated[list[str], BeforeValidator(_as_list)] = Field(min_length=1)


class Column(_Strict):
    """A raw column as delivered; `format` documents how its text is written."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: ColumnType = "string"
    nullable: bool = True
    format: str | None = None
    description: str | None = None


class Dataset(_Strict):
    """One catalogue entry (SCHEMA.md §1)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str
    owner: str
    kind: Literal["bulk_personal", "bulk_comms", "partner"]
    classification: Classification
    authorisation: Authorisation | None = None
    access: Literal["cut", "feed"]
    source: Source
    columns: list[Column] = Field(min_length=1)
    country: str = Field(default="GBR", pattern=r"^[A-Z]{3}$")
    timezone: str = "Europe/London"
    retention_days: int = Field(gt=0)
    refresh: str
    duplicate_free: bool = False  # at most one record per person (an electoral roll, say)

    @model_validator(mode="after")
    def _consistent(self) -> Dataset:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"columns: duplicate column names {sorted(_dupes(names))}")
        missing = [c for c in self.source.record_id if c not in names]
        if missing:
            raise ValueError(f"source.record_id: {missing} not among columns")
        if not _OWNER.match(self.owner):
            raise ValueError("owner: must be 'team:<name>' or an e-mail address")
        if self.refresh != "manual" and not is_cron(self.refresh):
            raise ValueError(f"refresh: {self.refresh!r} is neither 'manual' nor a {CRON_FORMS}")
        return self

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _dupes(names: list[str]) -> set[str]:
    return {n for n in names if names.count(n) > 1}


def load_dataset(path: Path) -> Dataset:
    """Load and validate one entry; errors name the file and the offending key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path}: expected a mapping of keys, got {type(raw).__name__}")
    try:
        dataset = Dataset.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<entry>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise CatalogueError(f"{path}: {problems}") from exc
    if dataset.name != path.stem:
        raise CatalogueError(
            f"{path}: name: {dataset.name!r} must equal the file name {path.stem!r}"
        )
    return dataset


def dataset_files(catalogue_dir: Path) -> list[Path]:
    """Catalogue entries: every top-level `*.yml` except the non-dataset files (users)."""
    return sorted(p for p in catalogue_dir.glob("*.yml") if p.stem not in NOT_DATASETS)


def load_catalogue(catalogue_dir: Path) -> dict[str, Dataset]:
    """Every dataset of the catalogue, by name."""
    if not catalogue_dir.is_dir():
        raise CatalogueError(f"{catalogue_dir}: catalogue folder not found")
    return {d.name: d for d in map(load_dataset, dataset_files(catalogue_dir))}
