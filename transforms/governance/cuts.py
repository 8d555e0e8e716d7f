"""Partner cuts: `cuts/<partner>/<run>/`, checksummed, within clearance, recorded as a disclosure.

Policy, in order:

1. A cut is *refused* (`CutRefused`, nothing written) when its configuration asks for more than
   the partner may receive: a table's `max_classification` above the partner's clearance, a
   column the table does not have, a filter the table cannot apply, an unknown dataset, or a
   table without a `classification` column whose ceiling (the highest classification in the
   catalogue, since every silver and gold row derives from catalogue datasets) is above the
   table's `max_classification`.
2. Rows are *never* trimmed silently: every row above the table's `max_classification` (itself
   at or below the clearance) is withheld, and the manifest says how many, split into rows above
   the partner's clearance and rows within clearance but above what the table asked for. A
   missing or unknown classification counts as above every clearance. A `gold.entity_links` row
   counts at the highest of its own classification and its two entities' (an entity missing
   from `gold.entities` ranks above every clearance), so no link reveals an entity the partner
   could not receive.
3. Each table is read once at its current Delta version (recorded), filtered, reduced to the
   agreed columns plus `classification`, and written as Parquet and as a CSV safe against
   spreadsheet formula injection. Every file is written whole or not at all (a temporary name
   and a rename on a local disk, one upload on an object store);
   `manifest.json` is written last, then the disclosure is appended to `ops.disclosures`. If any
   step fails the run folder is removed, so a folder with a manifest is always a complete,
   recorded cut.
4. A cut may serve a *task* (`lakehouse cut PARTNER --task REF`, or the partner file's `task`):
   then every table holds only rows of the entities matched by the searches recorded under that
   task (`ops.search_matches`, read through `ops.search_log`), selected before the rules above
   withhold anything (so withheld counts are of the task's rows), and the manifest and
   `ops.disclosures` name the task. Entity tables filter on `entity_id`, `gold.entity_links`
   keeps links whose *both* entities were matched (a link to an unmatched entity would name it),
   record tables keep the matched entities' records (through `gold.entity_records`); a table
   with none of these columns is refused. A command-line task
   other than the one the partner file names is refused: the file's task is the agreement.
   A task with no recorded matches gives an *empty* cut, recorded, whose manifest carries a
   `note` saying so, rather than a refusal: a partner's scheduled cut under a task its analysts
   have not searched yet should not fail every run, and "nothing matched under T" is itself the
   answer the partner is owed; the note (also printed by `lakehouse cut`) keeps a mistyped
   reference from passing unnoticed. Issue 20's tasking register (`ops.tasks`) will refuse an
   unknown or closed task in `task_scope`, before anything is read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from transforms.catalogue import load_catalogue
from transforms.config import Environment
from transforms.contract import ABOVE_ALL as ABOVE_ALL  # re-exported
from transforms.contract import CLASSIFICATION_RANK, HIGHEST, LOWEST, highest
from transforms.contract import RANK_TO_CLASS as RANK_NAMES
from transforms.contract import rank_expr as rank  # re-exported: `rank(expr)`
from transforms.delta_io import TableNotFound, open_table, read_ledger
from transforms.governance.partners import Partner, TableCut, within
from transforms.governance.search_ledger import TaskMatches, task_matches
from transforms.governance.tasks import find_task
from transforms.publish import append_frame
from transforms.quality.currency import GoldCurrency, gold_currency
from transforms.storage import (
    StoragePath,
    make_dirs,
    readable,
    remove_tree,
    sha256_file,
    staged,
)

DISCLOSURES = "ops.disclosures"
MANIFEST = "manifest.json"
CLASSIFICATION = "classification"
ENTITIES = "gold.entities"
LINKS = "gold.entity_links"
MEMBERS = "gold.entity_records"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = "^[" + re.escape("".join(FORMULA_START)) + "]"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_RANK = "__rank"

DISCLOSURE_SCHEMA = pa.schema(
    [
        ("partner", pa.string()),
        ("clearance", pa.string()),
        ("classification", pa.string()),
        ("purpose", pa.string()),
        ("agreement", pa.string()),
        ("run_id", pa.string()),
        ("generated_at", pa.timestamp("us", tz="UTC")),
        ("tables", pa.list_(pa.string())),
        ("versions", pa.list_(pa.int64())),
        ("table_rows", pa.list_(pa.int64())),
        ("rows", pa.int64()),
        ("withheld", pa.int64()),
        ("files", pa.list_(pa.string())),
        ("sha256", pa.list_(pa.string())),
        ("manifest_sha256", pa.string()),
        ("folder", pa.string()),
        ("task", pa.string()),  # the task the cut served, null for a cut of everything
    ]
)


class CutRefused(Exception):
    """The partner's configuration asks for something it may not receive; nothing was written."""

    def __init__(self, partner: str, reason: str) -> None:
        self.partner = partner
        self.reason = " ".join(reason.split())
        super().__init__(f"cut for {partner} refused: {self.reason}")


@dataclass(frozen=True)
class TableResult:
    """One table of a cut, as its manifest entry describes it."""

    table: str
    delta_version: int
    rows: int
    withheld_above_clearance: int
    withheld_above_max_classification: int
    columns: list[str]
    classification: str | None
    where: dict[str, Any] | None
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def withheld(self) -> int:
        return self.withheld_above_clearance + self.withheld_above_max_classification

    def manifest_entry(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "delta_version": self.delta_version,
            "rows": self.rows,
            "withheld_above_clearance": self.withheld_above_clearance,
            "withheld_above_max_classification": self.withheld_above_max_classification,
            "classification": self.classification,
            "columns": self.columns,
            "where": self.where,
            "files": self.files,
        }


@dataclass(frozen=True)
class CutResult:
    """A written, recorded cut."""

    partner: str
    run_id: str
    folder: StoragePath
    manifest_path: StoragePath
    manifest_sha256: str
    classification: str
    generated_at: datetime
    tables: list[TableResult]
    versions_read: dict[str, int]
    currency: GoldCurrency  # deliveries gold did not yet reflect when the cut was made
    task: str | None = None  # the task whose matched entities the cut was limited to
    note: str | None = None  # e.g. the task had no recorded matches, so the cut is empty

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def withheld(self) -> int:
        return sum(t.withheld for t in self.tables)

    @property
    def withheld_above_clearance(self) -> int:
        return sum(t.withheld_above_clearance for t in self.tables)


@dataclass
class _Planned:
    spec: TableCut
    frame: pl.DataFrame
    version: int
    withheld_above_clearance: int
    withheld_above_max_classification: int


# --- reading -----------------------------------------------------------------------------


class _Reader:
    """Each table read once, at its current version, for the whole cut."""

    def __init__(self, env: Environment, partner: str) -> None:
        self.env = env
        self.partner = partner
        self.versions: dict[str, int] = {}
        self._frames: dict[str, pl.DataFrame] = {}

    def read(self, table: str) -> tuple[pl.DataFrame, int]:
        if table not in self._frames:
            try:
                delta = open_table(self.env.table_path(table))
            except TableNotFound as exc:
                raise CutRefused(self.partner, f"{table} has not been built yet") from exc
            frame = pl.from_arrow(delta.to_pyarrow_table())
            assert isinstance(frame, pl.DataFrame)
            self._frames[table] = frame
            self.versions[table] = delta.version()
        return self._frames[table], self.versions[table]


def _entity_ranks(reader: _Reader) -> pl.DataFrame:
    entities, _ = reader.read(ENTITIES)
    return entities.group_by("entity_id").agg(rank(pl.col(CLASSIFICATION)).max().alias(_RANK))


# --- planning (everything that can refuse happens before anything is written) --------------


def _refuse(partner: Partner, reason: str) -> CutRefused:
    return CutRefused(partner.name, reason)


def _ranked(
    partner: Partner, spec: TableCut, frame: pl.DataFrame, reader: _Reader, ceiling: str
) -> pl.DataFrame:
    """The table with `__rank`: the classification each row is withheld or released at."""
    if CLASSIFICATION in frame.columns:
        ranked = frame.with_columns(rank(pl.col(CLASSIFICATION)).alias(_RANK))
    elif within(ceiling, spec.max_classification):
        ranked = frame.with_columns(
            pl.lit(ceiling).alias(CLASSIFICATION),
            pl.lit(CLASSIFICATION_RANK[ceiling], dtype=pl.Int64).alias(_RANK),
        )
    else:
        raise _refuse(
            partner,
            f"{spec.table} has no classification column and can hold rows up to {ceiling} "
            f"(the catalogue's highest), above its max_classification {spec.max_classification}",
        )
    if spec.table != LINKS:
        return ranked
    entities = _entity_ranks(reader)
    for side in ("a", "b"):
        ranked = ranked.join(
            entities.rename({"entity_id": f"entity_id_{side}", _RANK: f"{_RANK}_{side}"}),
            on=f"entity_id_{side}",
            how="left",
        )
    return ranked.with_columns(
        pl.max_horizontal(
            _RANK,
            pl.col(f"{_RANK}_a").fill_null(ABOVE_ALL),
            pl.col(f"{_RANK}_b").fill_null(ABOVE_ALL),
        ).alias(_RANK)
    ).drop(f"{_RANK}_a", f"{_RANK}_b")


def _filtered(
    partner: Partner, spec: TableCut, frame: pl.DataFrame, reader: _Reader, datasets: set[str]
) -> pl.DataFrame:
    """The rows the table's `where` selects (all rows without one)."""
    where = spec.where
    if where is None:
        return frame
    columns = set(frame.columns)
    if where.datasets_any is not None:
        unknown = sorted(set(where.datasets_any) - datasets)
        if unknown:
            raise _refuse(
                partner, f"{spec.table}: where.datasets_any names unknown datasets {unknown}"
            )
        wanted = where.datasets_any
        if spec.table == LINKS:
            entities, _ = reader.read(ENTITIES)
            seen = entities.filter(
                pl.col("datasets").list.eval(pl.element().is_in(wanted)).list.any()
            )["entity_id"].implode()
            frame = frame.filter(
                pl.col("entity_id_a").is_in(seen) & pl.col("entity_id_b").is_in(seen)
            )
        elif "datasets" in columns:
            frame = frame.filter(
                pl.col("datasets").list.eval(pl.element().is_in(wanted)).list.any().fill_null(False)
            )
        elif "source_dataset" in columns:
            frame = frame.filter(pl.col("source_dataset").is_in(wanted))
        elif "record_key" in columns:
            frame = frame.filter(pl.col("record_key").str.extract(r"^([^:]+):", 1).is_in(wanted))
        else:
            raise _refuse(
                partner,
                f"{spec.table}: where.datasets_any needs a datasets, source_dataset or record_key "
                "column, and the table has none",
            )
    if where.entity_ids is not None:
        ids = where.entity_ids
        if spec.table == LINKS:
            frame = frame.filter(
                pl.col("entity_id_a").is_in(ids) | pl.col("entity_id_b").is_in(ids)
            )
        elif "entity_id" in columns:
            frame = frame.filter(pl.col("entity_id").is_in(ids))
        else:
            raise _refuse(partner, f"{spec.table}: where.entity_ids needs an entity_id column")
    if where.link_types is not None:
        if "link_type" not in columns:
            raise _refuse(partner, f"{spec.table}: where.link_types needs a link_type column")
        frame = frame.filter(pl.col("link_type").is_in(where.link_types))
    return frame


def task_scope(env: Environment, partner: Partner, task: str | None) -> TaskMatches | None:
    """The task this cut serves and the entities its searches matched; None for no task.

    A `task` given here (the command line) must be the partner file's own task when it names
    one, and it must be open in the tasking register (`ops.tasks`).
    """
    if task is not None:
        task = task.strip()
        if not task:
            raise _refuse(partner, "--task must give a task reference")
        if partner.task is not None and task != partner.task:
            raise _refuse(
                partner,
                f"--task {task!r} differs from the task {partner.task!r} the partner's "
                "agreement names",
            )
    chosen = task or partner.task
    if chosen is None:
        return None
    registered = find_task(env, chosen)
    if registered is None:
        raise _refuse(partner, f"unknown task {chosen}: not in the tasking register")
    if registered.status != "open":
        raise _refuse(partner, f"task {chosen} is closed: no cut may serve it")
    return task_matches(env, chosen)


def _of_task(
    partner: Partner, spec: TableCut, frame: pl.DataFrame, reader: _Reader, scope: TaskMatches
) -> pl.DataFrame:
    """Only the rows of the entities the task's searches matched."""
    ids = pl.Series("entity_id", scope.entity_ids, dtype=pl.String).implode()
    columns = set(frame.columns)
    if spec.table == LINKS:
        return frame.filter(pl.col("entity_id_a").is_in(ids) & pl.col("entity_id_b").is_in(ids))
    if "entity_id" in columns:
        return frame.filter(pl.col("entity_id").is_in(ids))
    if "record_key" in columns:
        members, _ = reader.read(MEMBERS)
        keys = members.filter(pl.col("entity_id").is_in(ids))["record_key"].implode()
        return frame.filter(pl.col("record_key").is_in(keys))
    raise _refuse(
        partner,
        f"{spec.table} cannot be limited to task {scope.task}'s entities: it has no entity_id "
        "or record_key column",
    )


def _plan_table(
    partner: Partner,
    spec: TableCut,
    reader: _Reader,
    ceiling: str,
    datasets: set[str],
    scope: TaskMatches | None = None,
) -> _Planned:
    if not within(spec.max_classification, partner.clearance):
        raise _refuse(
            partner,
            f"{spec.table} asks for max_classification {spec.max_classification}, above the "
            f"partner's clearance {partner.clearance}",
        )
    frame, version = reader.read(spec.table)
    unknown = [c for c in spec.columns if c not in frame.columns and c != CLASSIFICATION]
    if unknown:
        raise _refuse(
            partner,
            f"{spec.table} has no columns {unknown} (it has {sorted(frame.columns)})",
        )
    selected = _filtered(partner, spec, frame, reader, datasets)
    if scope is not None:
        selected = _of_task(partner, spec, selected, reader, scope)
    matched = _ranked(partner, spec, selected, reader, ceiling)
    clearance = CLASSIFICATION_RANK[partner.clearance]
    limit = CLASSIFICATION_RANK[spec.max_classification]
    above_clearance = int((matched[_RANK] > clearance).sum())
    above_limit = int(((matched[_RANK] > limit) & (matched[_RANK] <= clearance)).sum())
    columns = [*spec.columns, *([] if CLASSIFICATION in spec.columns else [CLASSIFICATION])]
    kept = matched.filter(pl.col(_RANK) <= limit).select(columns)
    return _Planned(spec, kept, version, above_clearance, above_limit)


def plan_cut(
    env: Environment, partner: Partner, scope: TaskMatches | None = None
) -> tuple[list[_Planned], dict[str, int]]:
    """Read, check and filter every table of the cut; raises `CutRefused` before any write.

    With a `scope` every table is limited to the task's matched entities; the versions read
    include the search ledgers the scope was read from.
    """
    catalogue = load_catalogue(env.catalogue_dir)
    ceiling = highest([d.classification for d in catalogue.values()]) if catalogue else HIGHEST
    reader = _Reader(env, partner.name)
    planned = [
        _plan_table(partner, spec, reader, ceiling, set(catalogue), scope)
        for spec in partner.tables
    ]
    return planned, {**reader.versions, **(scope.versions if scope else {})}


# --- writing -----------------------------------------------------------------------------


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells ready for a spreadsheet: lists joined with `; `, formula starts neutralised.

    Every text cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`
    (OWASP CSV injection guidance), so a spreadsheet shows it as text instead of evaluating it.
    Numbers and dates are written as they are.
    """
    exprs = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, (pl.List, pl.Array)):
            text = column.cast(pl.List(dtype.inner)).list.eval(pl.element().cast(pl.String))
            text = text.list.join("; ")
        elif isinstance(dtype, pl.Struct):
            text = column.struct.json_encode()
        elif dtype == pl.String or isinstance(dtype, (pl.Categorical, pl.Enum)):
            text = column.cast(pl.String)
        else:
            continue
        exprs.append(
            pl.when(text.str.contains(_FORMULA_PATTERN))
            .then(pl.lit("'") + text)
            .otherwise(text)
            .alias(name)
        )
    return frame.with_columns(exprs) if exprs else frame


def write_safe_csv(frame: pl.DataFrame, path: Path) -> None:
    """`csv_safe` written with every non-numeric value quoted."""
    csv_safe(frame).write_csv(path, quote_style="non_numeric")


def _atomic(path: StoragePath, write: Any) -> dict[str, Any]:
    """Write the whole file or nothing (`staged`), then describe it."""
    with staged(path) as local:
        write(local)
    return {"name": path.name, "sha256": sha256_file(path), "bytes": path.stat().st_size}


REFERENCE_COLUMNS = ("record_key", "entity_id", "entity_id_a", "entity_id_b")


def redact_cut_table(
    folder: StoragePath, table: str, keys: set[str], entities: set[str], log: Any
) -> tuple[int, dict[str, dict[str, Any]]]:
    """Rewrite one cut table's Parquet and CSV files without rows naming `keys` or `entities`.

    Returns the rows removed and the new description (sha256, bytes) of each file rewritten; the
    old and new sha256 of every rewritten file go to the destruction `log`.
    """
    parquet = folder / f"{table}.parquet"
    if not parquet.exists():
        return 0, {}
    with readable(parquet) as source:
        frame = pl.read_parquet(source)
    doomed = pl.lit(False)
    for column in REFERENCE_COLUMNS:
        if column in frame.columns:
            values = sorted(keys if column == "record_key" else entities)
            doomed = doomed | pl.col(column).is_in(values).fill_null(False)
    kept = frame.filter(~doomed)
    removed = frame.height - kept.height
    if not removed:
        return 0, {}
    written: dict[str, dict[str, Any]] = {}
    for path, write in (
        (parquet, kept.write_parquet),
        (folder / f"{table}.csv", lambda p: write_safe_csv(kept, p)),
    ):
        if path.exists():
            old = sha256_file(path)
            written[path.name] = _atomic(path, write)
            log.removed_files.append((str(path), old))
            log.rewritten_files.append((str(path), written[path.name]["sha256"]))
    return removed, written


def _write_table(folder: StoragePath, planned: _Planned) -> list[dict[str, Any]]:
    stem = planned.spec.table
    return [
        _atomic(folder / f"{stem}.parquet", planned.frame.write_parquet),
        _atomic(folder / f"{stem}.csv", lambda p: write_safe_csv(planned.frame, p)),
    ]


def _present_classification(frame: pl.DataFrame) -> str | None:
    ranks = frame.select(rank(pl.col(CLASSIFICATION)).max()).item() if frame.height else None
    return None if ranks is None else RANK_NAMES.get(int(ranks), "UNKNOWN")


def make_cut(
    env: Environment,
    partner: Partner,
    run_id: str,
    *,
    task: str | None = None,
    now: datetime | None = None,
) -> CutResult:
    """Write the partner's cut to `cuts/<partner>/<run_id>/` and record it in `ops.disclosures`.

    `task` (or else the partner file's `task`) limits the cut to that task's matched entities.
    """
    if not _RUN_ID.match(run_id):
        raise ValueError(f"run id {run_id!r} must be letters, digits, '_', '.' or '-'")
    scope = task_scope(env, partner, task)
    planned, versions = plan_cut(env, partner, scope)
    note = None
    if scope is not None and scope.empty:
        searched = f"{len(scope.searches)} searches" if scope.searches else "no searches"
        note = (
            f"task {scope.task} has no recorded search matches ({searched} logged under it): "
            "the cut holds no rows"
        )
    currency = gold_currency(env)
    generated_at = now or datetime.now(UTC)
    folder = env.cuts / partner.name / run_id
    make_dirs(folder.parent)
    folder.mkdir()  # a run id is used once: an existing folder raises FileExistsError
    try:
        tables = [
            TableResult(
                table=p.spec.table,
                delta_version=p.version,
                rows=p.frame.height,
                withheld_above_clearance=p.withheld_above_clearance,
                withheld_above_max_classification=p.withheld_above_max_classification,
                columns=p.frame.columns,
                classification=_present_classification(p.frame),
                where=p.spec.where.model_dump(exclude_none=True) if p.spec.where else None,
                files=_write_table(folder, p),
            )
            for p in planned
        ]
        present = [t.classification for t in tables if t.classification]
        classification = highest(present) if present else LOWEST
        manifest = {
            "partner": partner.name,
            "title": partner.title,
            "purpose": partner.purpose,
            "agreement": partner.agreement,
            "clearance": partner.clearance,
            "classification": classification,
            "generated_at": generated_at.isoformat(),
            "run_id": run_id,
            "versions_read": versions,
            # Whether deliveries were still on their way to gold: in landing, or in bronze
            # since gold's latest version (a scheduled cut does not wait for them).
            "gold_currency": currency.to_dict(),
            "rows": sum(t.rows for t in tables),
            "withheld": sum(t.withheld for t in tables),
            # The task the cut served: only its searches' matched entities (null: no task).
            "task": scope.task if scope else None,
            "task_searches": scope.searches if scope else None,
            "task_entities": len(scope.entity_ids) if scope else None,
            "tables": [t.manifest_entry() for t in tables],
        }
        if note is not None:
            manifest["note"] = note
        manifest_path = folder / MANIFEST
        _atomic(
            manifest_path,
            lambda p: p.write_text(json.dumps(manifest, indent=2, default=str) + "\n"),
        )
        result = CutResult(
            partner=partner.name,
            run_id=run_id,
            folder=folder,
            manifest_path=manifest_path,
            manifest_sha256=sha256_file(manifest_path),
            classification=classification,
            generated_at=generated_at,
            tables=tables,
            versions_read=versions,
            currency=currency,
            task=scope.task if scope else None,
            note=note,
        )
        record_disclosure(env, partner, result)
    except BaseException:
        remove_tree(folder, ignore_errors=True)  # an unrecorded or partial cut never stays
        raise
    return result


# --- the record and the check ----------------------------------------------------------------


def record_disclosure(env: Environment, partner: Partner, cut: CutResult) -> int:
    """Append the cut to `ops.disclosures`; returns the new Delta version."""
    files = [f for t in cut.tables for f in t.files]
    row = {
        "partner": partner.name,
        "clearance": partner.clearance,
        "classification": cut.classification,
        "purpose": partner.purpose,
        "agreement": partner.agreement,
        "run_id": cut.run_id,
        "generated_at": cut.generated_at,
        "tables": [t.table for t in cut.tables],
        "versions": [t.delta_version for t in cut.tables],
        "table_rows": [t.rows for t in cut.tables],
        "rows": cut.rows,
        "withheld": cut.withheld,
        "files": [f["name"] for f in files],
        "sha256": [f["sha256"] for f in files],
        "manifest_sha256": cut.manifest_sha256,
        "folder": str(cut.folder),
        "task": cut.task,
    }
    frame = pl.from_arrow(pa.Table.from_pylist([row], schema=DISCLOSURE_SCHEMA))
    assert isinstance(frame, pl.DataFrame)
    return append_frame(env, DISCLOSURES, frame, run_id=cut.run_id)


def disclosures(env: Environment) -> pl.DataFrame:
    """Every recorded cut (empty with the ledger's columns before the first)."""
    return read_ledger(env.table_path(DISCLOSURES), DISCLOSURE_SCHEMA)


def verify_cut(folder: StoragePath, manifest_sha256: str | None = None) -> list[str]:
    """Problems with a cut folder against its manifest (empty when intact).

    Every file the manifest lists must exist with its recorded size and sha256, no other file
    may be in the folder, and when `manifest_sha256` (from `ops.disclosures`) is given the
    manifest itself must match it.
    """
    path = folder / MANIFEST
    if not path.is_file():
        return [f"{path}: manifest missing"]
    problems = []
    if manifest_sha256 is not None and sha256_file(path) != manifest_sha256:
        problems.append(f"{MANIFEST}: sha256 differs from the recorded disclosure")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        listed = [f for t in manifest["tables"] for f in t["files"]]
    except (ValueError, KeyError, TypeError) as exc:
        return [*problems, f"{MANIFEST}: unreadable: {exc}"]
    for entry in listed:
        file = folder / entry["name"]
        if not file.is_file():
            problems.append(f"{entry['name']}: missing")
        elif file.stat().st_size != entry["bytes"]:
            problems.append(
                f"{entry['name']}: {file.stat().st_size} bytes, manifest says {entry['bytes']}"
            )
        elif sha256_file(file) != entry["sha256"]:
            problems.append(f"{entry['name']}: sha256 differs from the manifest")
    names = {e["name"] for e in listed} | {MANIFEST}
    problems.extend(
        f"{p.name}: not in the manifest" for p in sorted(folder.iterdir()) if p.name not in names
    )
    return problems
