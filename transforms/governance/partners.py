"""Partner agreements: who receives which cut of the lakehouse, `catalogue/partners/<name>.yml`.

A partner file names the partner's clearance, the purpose and agreement the disclosure rests on,
a schedule, and for every table it receives the columns, the highest classification it expects
(`max_classification`, never above the clearance) and an optional declarative row filter. An
optional `task` limits every cut to the entities the searches recorded under that task matched.
Validation errors name the file and the key, like the dataset catalogue's.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from transforms.catalogue import CRON_FORMS, CatalogueError, is_cron
from transforms.contract import LINK_TYPES as LINK_TYPES  # re-exported
from transforms.contract import Classification, LinkType
from transforms.contract import within as within  # re-exported: cuts and tests use it here

PARTNERS_FOLDER = "partners"
_NAME = r"^[a-z][a-z0-9_]*$"
_TABLE = r"^(gold|silver)\.[a-z][a-z0-9_]*$"
_COLUMN = re.compile(_NAME)
TASK_REF = r"^\S(.*\S)?$"  # a task or case reference: not blank, no surrounding spaces


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RowFilter(_Strict):
    """Declarative row filter; every key given must hold (they combine with AND).

    - `datasets_any`: rows about people seen in at least one of these datasets: for
      `gold.entities` its `datasets` list intersects; for `gold.entity_links` both entities do;
      for record tables the record's `source_dataset` (or the dataset part of `record_key`).
    - `entity_ids`: rows of these entities (`entity_id`); for `gold.entity_links` the links
      touching at least one of them.
    - `link_types`: `gold.entity_links` only, links of these types.
    """

    datasets_any: list[str] | None = Field(default=None, min_length=1)
    entity_ids: list[str] | None = Field(default=None, min_length=1)
    link_types: list[LinkType] | None = Field(default=None, min_length=1)

    @field_validator("datasets_any")
    @classmethod
    def _dataset_names(cls, value: list[str] | None) -> list[str] | None:
        bad = [d for d in value or [] if not _COLUMN.match(d)]
        if bad:
            raise ValueError(f"not dataset names: {bad}")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> RowFilter:
        if self.datasets_any is None and self.entity_ids is None and self.link_types is None:
            raise ValueError("give at least one of datasets_any, entity_ids, link_types")
        return self


class TableCut(_Strict):
    """One table a partner receives."""

    table: str = Field(pattern=_TABLE)
    max_classification: Classification
    columns: list[str] = Field(min_length=1)
    where: RowFilter | None = None

    @field_validator("columns")
    @classmethod
    def _column_names(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if not _COLUMN.match(c)]
        if bad:
            raise ValueError(f"not column names: {bad}")
        repeated = sorted({c for c in value if value.count(c) > 1})
        if repeated:
            raise ValueError(f"columns listed more than once: {repeated}")
        return value

    @model_validator(mode="after")
    def _filter_fits_table(self) -> TableCut:
        if self.where and self.where.link_types and self.table != "gold.entity_links":
            raise ValueError(
                f"where.link_types: only gold.entity_links has links, not {self.table}"
            )
        return self

    @property
    def layer(self) -> str:
        return self.table.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.table.split(".", 1)[1]


class Partner(_Strict):
    """One partner agreement (`catalogue/partners/<name>.yml`)."""

    name: str = Field(pattern=_NAME)
    title: str = Field(min_length=1)
    clearance: Classification
    purpose: str = Field(min_length=1)
    agreement: str = Field(min_length=1)
    schedule: str
    timezone: str = "Europe/London"
    tables: list[TableCut] = Field(min_length=1)
    # Only rows of the entities matched by searches under this task (`ops.search_matches`).
    task: str | None = Field(default=None, pattern=TASK_REF)

    @model_validator(mode="after")
    def _consistent(self) -> Partner:
        if self.schedule != "manual" and not is_cron(self.schedule):
            raise ValueError(f"schedule: {self.schedule!r} is neither 'manual' nor a {CRON_FORMS}")
        names = [t.table for t in self.tables]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"tables: listed more than once: {repeated}")
        for index, table in enumerate(self.tables):
            if not within(table.max_classification, self.clearance):
                raise ValueError(
                    f"tables.{index}.max_classification: {table.table} asks for "
                    f"{table.max_classification}, above the partner's clearance {self.clearance}"
                )
        return self

    @property
    def scheduled(self) -> bool:
        return self.schedule != "manual"


def parse_partner(raw: object, source: str | Path, stem: str | None = None) -> Partner:
    """Validate a parsed partner file; errors name `source` and the offending key."""
    if not isinstance(raw, dict):
        raise CatalogueError(f"{source}: expected a mapping of keys, got {type(raw).__name__}")
    try:
        partner = Partner.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_problem(err["loc"], err["msg"]) for err in exc.errors())
        raise CatalogueError(f"{source}: {problems}") from exc
    if stem is not None and partner.name != stem:
        raise CatalogueError(f"{source}: name: {partner.name!r} must equal the file name {stem!r}")
    return partner


def _problem(loc: tuple[object, ...], message: str) -> str:
    message = message.removeprefix("Value error, ")
    return f"{'.'.join(str(p) for p in loc)}: {message}" if loc else message


def load_partner(path: Path) -> Partner:
    """Load and validate one partner file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogueError(f"{path}: partner file not found") from exc
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from exc
    return parse_partner(raw, path, stem=path.stem)


def partner_files(catalogue_dir: Path) -> list[Path]:
    return sorted((catalogue_dir / PARTNERS_FOLDER).glob("*.yml"))


def load_partners(catalogue_dir: Path) -> dict[str, Partner]:
    """Every partner of `catalogue/partners/`, by name (none when the folder is missing)."""
    return {p.name: p for p in map(load_partner, partner_files(catalogue_dir))}
