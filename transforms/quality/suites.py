"""Great Expectations suites for every bronze dataset and every silver and gold table.

The suites are kept as JSON in the repository (`expectations/<layer>/<table>.json`) so a change
to what we check shows up in review as a diff. They are generated, never hand-edited:

* bronze suites come from each catalogue entry (`catalogue/<dataset>.yml`): its columns plus the
  ingest lineage columns, its non-nullable columns, its `record_id` and its date-of-birth formats;
* silver and gold suites come from the table specifications below (`TABLES`), which follow the
  shared schema (SCHEMA.md §2, §3) and the dbt tests in `dbt_project/models/silver/_silver.yml`.

Regenerate after changing either with `python -m transforms.quality.suites`; a test fails while the
committed files differ from what this module generates.

Every expectation carries `meta.severity` and `meta.family`:

* `blocking` (schema, keys and lineage): a failure means the table must not be published;
* `warn` (values, formats and soft volume checks): failing rows are reported (and may be
  quarantined) but the rest of the table goes on.

Families: `schema` (columns present), `keys` (row identity and lineage), `values` (accepted values
and ranges), `formats` (patterns: postcodes, E.164 phones, dates) and `volume` (row counts).

Conditional checks (UK postcodes only where `country = 'GBR'`, E.164 only where
`identifier_type = 'phone'`) use GX 1.x structured row conditions, which serialise as plain JSON
(`{"type": "comparison", "column": {"name": "country"}, "operator": "==", "parameter": "GBR"}`).
"Today" in date-of-birth ranges is the suite parameter `now()`, evaluated when the suite runs, so
the JSON stays the same from one day to the next.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from transforms.catalogue import Dataset, load_catalogue
from transforms.config import PROJECT_ROOT, disable_telemetry
from transforms.contract import CLASSIFICATIONS, LINK_TYPES, TABLE_KEYS
from transforms.ingest.pipeline import LINEAGE_FIELDS
from transforms.quality.strftime_regex import strftime_regex

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.expectations import Expectation

BLOCKING = "blocking"
WARN = "warn"
SEVERITIES = (BLOCKING, WARN)
FAMILIES = ("schema", "keys", "values", "formats", "volume")
LAYERS = ("bronze", "silver", "gold")
LINEAGE_COLUMNS: tuple[str, ...] = tuple(f.name for f in LINEAGE_FIELDS)
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"

IDENTIFIER_TYPES = ("phone", "email", "imei")
DOCUMENT_TYPES = ("passport", "national_id", "driving_licence")
GENDERS = ("M", "F")

UK_POSTCODE = r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$"
E164 = r"^\+[1-9][0-9]{7,14}$"
ALPHA3 = r"^[A-Z]{3}$"
RECORD_KEY = r"^[a-z][a-z0-9_]*:.+$"
ENTITY_ID = r"^E[0-9A-F]{15}$"
EMAIL = r"^[^@\sA-Z]+@[^@\sA-Z]+\.[^@\sA-Z]+$"
IMEI = r"^[0-9]{14,16}$"
UPPER_ALNUM = r"^[A-Z0-9]+$"
EARLIEST_BIRTH = "1900-01-01T00:00:00"
TODAY = {"$PARAMETER": "now()"}  # evaluated by GX at validation time
STRFTIME_MOSTLY = 0.95
_DOB_NAME = re.compile(r"(birth|dob)")

# GX's own severity field, kept in step with ours so GX tooling reads the same thing.
_GX_SEVERITY = {BLOCKING: "critical", WARN: "warning"}


def gx_module() -> ModuleType:
    """Great Expectations, imported on first use (it takes seconds) with telemetry off.

    GX imports pyspark, whose Connect module takes a process whose `__main__` has no `__file__`
    (a Dagster step worker, an execnet worker) for its own doctest run and calls `sys.exit(0)`:
    such a `__main__` is given a name first.
    """
    disable_telemetry()
    main = sys.modules.get("__main__")
    if main is not None and not hasattr(main, "__file__"):
        main.__file__ = "<lakehouse worker>"
    import great_expectations

    return great_expectations


def _meta(family: str, severity: str, **extra: Any) -> dict[str, Any]:
    if family not in FAMILIES or severity not in SEVERITIES:
        raise ValueError(f"unknown family {family!r} or severity {severity!r}")
    return {"family": family, "severity": severity, **extra}


def _opts(family: str, severity: str, description: str, **extra: Any) -> dict[str, Any]:
    """Keyword arguments every expectation gets: meta, GX severity and a steward-facing line."""
    return {
        "meta": _meta(family, severity, **extra),
        "severity": _GX_SEVERITY[severity],
        "description": description,
    }


# --- building blocks ---------------------------------------------------------------------------


def _columns_present(columns: Iterable[str], *, exact: bool) -> Expectation:
    gx = gx_module()
    columns = list(columns)
    what = "exactly these columns" if exact else "at least these columns"
    return gx.expectations.ExpectTableColumnsToMatchSet(
        column_set=columns,
        exact_match=exact,
        **_opts("schema", BLOCKING, f"The table has {what}: {', '.join(columns)}."),
    )


def _not_null(column: str, family: str, severity: str, why: str, **extra: Any) -> Expectation:
    gx = gx_module()
    return gx.expectations.ExpectColumnValuesToNotBeNull(
        column=column, **_opts(family, severity, f"`{column}` is never null ({why}).", **extra)
    )


def _unique(columns: list[str], why: str) -> Expectation:
    gx = gx_module()
    opts = _opts("keys", BLOCKING, f"{' + '.join(f'`{c}`' for c in columns)} is unique ({why}).")
    if len(columns) == 1:
        return gx.expectations.ExpectColumnValuesToBeUnique(column=columns[0], **opts)
    return gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=columns, **opts)


def _in_set(column: str, values: Iterable[str]) -> Expectation:
    gx = gx_module()
    values = list(values)
    return gx.expectations.ExpectColumnValuesToBeInSet(
        column=column,
        value_set=values,
        **_opts("values", WARN, f"`{column}` is one of {', '.join(values)} (or null)."),
    )


def _matches(
    column: str, regex: str, what: str, when: tuple[str, str, str] | None = None
) -> Expectation:
    """`column` matches `regex`; `when=(column, op, value)` restricts the rows checked."""
    gx = gx_module()
    from great_expectations.expectations.row_conditions import Column as RowColumn

    condition = None
    scope = ""
    if when is not None:
        other, op, value = when
        condition = RowColumn(other) == value if op == "==" else RowColumn(other) != value
        scope = f" where `{other}` {op} '{value}'"
    return gx.expectations.ExpectColumnValuesToMatchRegex(
        column=column,
        regex=regex,
        row_condition=condition,
        **_opts("formats", WARN, f"`{column}` is {what}{scope} (nulls allowed)."),
    )


def _between(
    column: str,
    minimum: float | None,
    maximum: float | None,
    what: str,
    *,
    strict_min: bool = False,
) -> Expectation:
    gx = gx_module()
    return gx.expectations.ExpectColumnValuesToBeBetween(
        column=column,
        min_value=minimum,
        max_value=maximum,
        strict_min=strict_min,
        **_opts("values", WARN, f"`{column}` is {what} (nulls allowed)."),
    )


def _birth_date(column: str) -> Expectation:
    gx = gx_module()
    return gx.expectations.ExpectColumnValuesToBeBetween(
        column=column,
        min_value=EARLIEST_BIRTH,
        max_value=TODAY,
        **_opts("formats", WARN, f"`{column}` lies between 1900-01-01 and today (nulls allowed)."),
    )


def _row_count(severity: str) -> Expectation:
    gx = gx_module()
    return gx.expectations.ExpectTableRowCountToBeBetween(
        min_value=1, **_opts("volume", severity, "The table has at least one row.")
    )


def _suite(
    layer: str,
    table: str,
    expectations: list[Expectation],
    key_columns: list[str],
    source: str,
    notes: str,
) -> dict[str, Any]:
    gx = gx_module()
    suite = gx.ExpectationSuite(
        name=f"{layer}.{table}",
        expectations=expectations,
        meta={
            "layer": layer,
            "table": table,
            "key_columns": key_columns,
            "generated_from": source,
            "great_expectations_version": gx.__version__,
        },
        notes=notes,
    )
    return suite.to_json_dict()


# --- bronze: generated from the catalogue ------------------------------------------------------


def is_strftime(fmt: str | None) -> bool:
    """A catalogue `format` that is a strftime pattern (rather than a name style like `mrz`)."""
    return fmt is not None and re.search(r"%[A-Za-z]", fmt) is not None


def birth_date_columns(dataset: Dataset) -> list[str]:
    """Date-of-birth-ish columns (name mentions birth or dob) delivered in a strftime format."""
    return [c.name for c in dataset.columns if _DOB_NAME.search(c.name) and is_strftime(c.format)]


def _written_as(column: str, fmt: str) -> Expectation:
    """`column` is written in the strftime format `fmt`: as the regex strptime reads it with
    (vectorised in GX), or GX's strftime check (per value) for a format it cannot translate."""
    gx = gx_module()
    what = f"`{column}` is written {fmt} (at least {STRFTIME_MOSTLY:.0%} of non-null values)."
    regex = strftime_regex(fmt)
    if regex is None:
        return gx.expectations.ExpectColumnValuesToMatchStrftimeFormat(
            column=column,
            strftime_format=fmt,
            mostly=STRFTIME_MOSTLY,
            **_opts("formats", WARN, what),
        )
    return gx.expectations.ExpectColumnValuesToMatchRegex(
        column=column,
        regex=regex,
        mostly=STRFTIME_MOSTLY,
        **_opts("formats", WARN, what, strftime_format=fmt),
    )


def bronze_suite(dataset: Dataset) -> dict[str, Any]:
    """The bronze suite of one catalogue entry, as GX suite JSON."""
    gx = gx_module()
    record_id = list(dataset.source.record_id)
    columns = [*dataset.column_names, *LINEAGE_COLUMNS]
    expectations: list[Expectation] = [_columns_present(columns, exact=True)]
    for name in record_id:
        expectations.append(_not_null(name, "keys", BLOCKING, "part of the record id"))
    for column in dataset.columns:
        if not column.nullable and column.name not in record_id:
            expectations.append(
                _not_null(column.name, "schema", BLOCKING, "the catalogue says nullable: false")
            )
    for name in LINEAGE_COLUMNS:
        expectations.append(_not_null(name, "keys", BLOCKING, "lineage", lineage=True))
    expectations.append(
        _unique([*record_id, "_delivery_id"], "a record id appears once within a delivery")
    )
    expectations.append(
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=["_delivery_id", "_source_file", "_row_number"],
            **_opts(
                "keys",
                BLOCKING,
                "`_delivery_id` + `_source_file` + `_row_number` is unique (lineage: every row "
                "points at one line of one delivered file).",
                lineage=True,
            ),
        )
    )
    for name in birth_date_columns(dataset):
        expectations.append(_written_as(name, str(dataset.column(name).format)))
    expectations.append(_row_count(BLOCKING))
    return _suite(
        "bronze",
        dataset.name,
        expectations,
        record_id,
        f"catalogue/{dataset.name}.yml",
        f"Generated from the catalogue entry of {dataset.name}; validate one delivery (or the "
        "whole table: the record id is checked per delivery).",
    )


# --- silver and gold: data-driven specifications ----------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    """What must hold for one silver or gold table."""

    layer: str
    table: str
    columns: tuple[str, ...]  # contract columns (SCHEMA.md); more are allowed
    unique: tuple[str, ...]  # the row identity, unique together
    key_not_null: tuple[str, ...]  # identity columns that must never be null
    sample_key: str  # the column that names a failing row for a steward
    lineage: tuple[str, ...] = ()  # lineage columns, never null
    required: tuple[str, ...] = ()  # other columns that should never be null (soft)
    accepted: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    patterns: tuple[tuple[str, str, str, tuple[str, str, str] | None], ...] = ()
    ranges: tuple[tuple[str, float | None, float | None, str, bool], ...] = ()
    birth_dates: tuple[str, ...] = ()
    empty_severity: str = BLOCKING  # an empty table: blocking, or soft where empty is possible
    notes: str = ""


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "silver",
        "person_records",
        columns=(
            "record_key",
            "source_dataset",
            "source_version",
            "source_record_id",
            "classification",
            "given_name",
            "middle_names",
            "family_name",
            "full_name",
            "date_of_birth",
            "birth_year",
            "gender",
            "nationality",
        ),
        unique=("record_key",),
        key_not_null=("record_key",),
        sample_key=TABLE_KEYS["person_records"],
        lineage=("source_dataset", "source_version", "source_record_id"),
        required=("classification",),
        accepted={"classification": CLASSIFICATIONS, "gender": GENDERS},
        patterns=(
            ("record_key", RECORD_KEY, "`<source_dataset>:<source_record_id>`", None),
            ("nationality", ALPHA3, "an ISO 3166 alpha-3 code", None),
        ),
        ranges=(("birth_year", 1900, None, "1900 or later", False),),
        birth_dates=("date_of_birth",),
        notes="One row per source record that describes a person (SCHEMA.md §2).",
    ),
    TableSpec(
        "silver",
        "addresses",
        columns=("record_key", "address_line", "town", "postcode", "country", "classification"),
        unique=("record_key", "address_line", "town", "postcode", "country"),
        key_not_null=("record_key",),
        sample_key=TABLE_KEYS["addresses"],
        required=("classification",),
        accepted={"classification": CLASSIFICATIONS},
        patterns=(
            ("postcode", UK_POSTCODE, "a UK postcode `AA9A 9AA`", ("country", "==", "GBR")),
            ("postcode", UPPER_ALNUM, "upper case without spaces", ("country", "!=", "GBR")),
            ("country", ALPHA3, "an ISO 3166 alpha-3 code", None),
        ),
        empty_severity=WARN,
        notes="One row per (record, address) (SCHEMA.md §2).",
    ),
    TableSpec(
        "silver",
        "comms_identifiers",
        columns=("record_key", "identifier_type", "identifier", "classification"),
        unique=("record_key", "identifier_type", "identifier"),
        key_not_null=("record_key", "identifier_type", "identifier"),
        sample_key=TABLE_KEYS["comms_identifiers"],
        required=("classification",),
        accepted={"classification": CLASSIFICATIONS, "identifier_type": IDENTIFIER_TYPES},
        patterns=(
            ("identifier", E164, "an E.164 phone number", ("identifier_type", "==", "phone")),
            (
                "identifier",
                EMAIL,
                "a lower-case e-mail address",
                ("identifier_type", "==", "email"),
            ),
            ("identifier", IMEI, "14 to 16 digits", ("identifier_type", "==", "imei")),
        ),
        empty_severity=WARN,
        notes="One row per (record, identifier); phones in E.164, e-mail lower-cased.",
    ),
    TableSpec(
        "silver",
        "document_identifiers",
        columns=(
            "record_key",
            "document_type",
            "document_number",
            "issuing_country",
            "classification",
        ),
        unique=("record_key", "document_type", "document_number"),
        key_not_null=("record_key", "document_number"),
        sample_key=TABLE_KEYS["document_identifiers"],
        required=("classification",),
        accepted={"classification": CLASSIFICATIONS, "document_type": DOCUMENT_TYPES},
        patterns=(
            ("document_number", UPPER_ALNUM, "upper case without spaces or punctuation", None),
            ("issuing_country", ALPHA3, "an ISO 3166 alpha-3 code", None),
        ),
        empty_severity=WARN,
        notes="One row per (record, identity document).",
    ),
    TableSpec(
        "silver",
        "comms_events",
        columns=(
            "event_key",
            "source_dataset",
            "source_version",
            "caller",
            "callee",
            "started_at",
            "duration_s",
            "cell_id",
            "classification",
        ),
        unique=("event_key",),
        key_not_null=("event_key",),
        sample_key=TABLE_KEYS["comms_events"],
        lineage=("source_dataset", "source_version"),
        required=("classification",),
        accepted={"classification": CLASSIFICATIONS},
        patterns=(
            ("caller", E164, "an E.164 phone number", None),
            ("callee", E164, "an E.164 phone number", None),
        ),
        ranges=(("duration_s", 0, None, "zero or more seconds", False),),
        empty_severity=WARN,
        notes="Call-detail records; caller and callee in E.164, start time in UTC.",
    ),
    TableSpec(
        "gold",
        "entities",
        columns=(
            "entity_id",
            "given_name",
            "family_name",
            "date_of_birth",
            "record_count",
            "datasets",
            "classification",
        ),
        unique=("entity_id",),
        key_not_null=("entity_id",),
        sample_key=TABLE_KEYS["entities"],
        required=("classification",),
        accepted={"classification": CLASSIFICATIONS},
        patterns=(("entity_id", ENTITY_ID, "`E` and 15 upper-case hex digits", None),),
        ranges=(("record_count", 1, None, "at least 1", False),),
        birth_dates=("date_of_birth",),
        notes="One row per resolved person (SCHEMA.md §3).",
    ),
    TableSpec(
        "gold",
        "entity_records",
        columns=(
            "entity_id",
            "record_key",
            "source_dataset",
            "cluster_match_probability",
            "classification",
        ),
        unique=("record_key",),
        key_not_null=("entity_id", "record_key"),
        sample_key=TABLE_KEYS["entity_records"],
        lineage=("source_dataset",),
        required=("classification",),
        accepted={"classification": CLASSIFICATIONS},
        ranges=(("cluster_match_probability", 0, 1, "a probability between 0 and 1", False),),
        notes="Each silver person record belongs to exactly one entity.",
    ),
    TableSpec(
        "gold",
        "entity_links",
        columns=(
            "entity_id_a",
            "entity_id_b",
            "link_type",
            "weight",
            "evidence",
            "classification",
        ),
        unique=("entity_id_a", "entity_id_b", "link_type"),
        key_not_null=("entity_id_a", "entity_id_b", "link_type"),
        sample_key=TABLE_KEYS["entity_links"],
        required=("classification",),
        accepted={"classification": CLASSIFICATIONS, "link_type": LINK_TYPES},
        ranges=(("weight", 0, None, "greater than 0", True),),
        empty_severity=WARN,
        notes="Links between entities with their evidence (SCHEMA.md §3).",
    ),
)


def table_suite(spec: TableSpec) -> dict[str, Any]:
    """The suite of one silver or gold table, as GX suite JSON."""
    expectations: list[Expectation] = [_columns_present(spec.columns, exact=False)]
    for name in spec.key_not_null:
        expectations.append(_not_null(name, "keys", BLOCKING, "it identifies the row"))
    expectations.append(_unique(list(spec.unique), "one row per key"))
    for name in spec.lineage:
        expectations.append(_not_null(name, "keys", BLOCKING, "lineage", lineage=True))
    for name in spec.required:
        expectations.append(_not_null(name, "values", WARN, "every row must carry it"))
    for name, values in spec.accepted.items():
        expectations.append(_in_set(name, values))
    for name, minimum, maximum, what, strict_min in spec.ranges:
        expectations.append(_between(name, minimum, maximum, what, strict_min=strict_min))
    for name, regex, what, when in spec.patterns:
        expectations.append(_matches(name, regex, what, when))
    for name in spec.birth_dates:
        expectations.append(_birth_date(name))
    expectations.append(_row_count(spec.empty_severity))
    return _suite(
        spec.layer,
        spec.table,
        expectations,
        [spec.sample_key],
        "transforms/quality/suites.py",
        spec.notes,
    )


def table_spec(layer: str, table: str) -> TableSpec:
    """The specification of `<layer>.<table>` (silver or gold)."""
    for spec in TABLES:
        if (spec.layer, spec.table) == (layer, table):
            return spec
    raise KeyError(f"no suite specification for {layer}.{table}")


# --- all suites, on disk ------------------------------------------------------------------------


def all_suites(catalogue: Mapping[str, Dataset]) -> dict[Path, dict[str, Any]]:
    """Every suite by its path relative to the expectations folder (`<layer>/<table>.json`)."""
    suites: dict[Path, dict[str, Any]] = {}
    for name in sorted(catalogue):
        suites[Path("bronze") / f"{name}.json"] = bronze_suite(catalogue[name])
    for spec in TABLES:
        suites[Path(spec.layer) / f"{spec.table}.json"] = table_suite(spec)
    return suites


def suite_json(suite: Mapping[str, Any]) -> str:
    """Pretty, key-sorted JSON with a final newline: the same suite gives the same bytes."""
    return json.dumps(suite, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_suites(catalogue_dir: Path, out_dir: Path) -> list[Path]:
    """Write every suite under `out_dir/<layer>/<table>.json`; returns the paths written.

    Suites no longer generated (a dataset removed from the catalogue) are deleted, so the folder
    always equals what the catalogue and `TABLES` say.
    """
    suites = all_suites(load_catalogue(catalogue_dir))
    written: list[Path] = []
    for relative, suite in suites.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = suite_json(suite)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    keep = set(written)
    for layer in LAYERS:
        for stale in sorted((out_dir / layer).glob("*.json")):
            if stale not in keep:
                stale.unlink()
    return written


def load_suite(path: Path) -> dict[str, Any]:
    """Read one suite file (GX suite JSON); refuses files that are not a suite."""
    suite = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(suite, dict) or not suite.get("name") or "expectations" not in suite:
        raise ValueError(f"{path}: not a Great Expectations suite (needs name and expectations)")
    return suite


def to_gx_suite(suite: Mapping[str, Any]) -> ExpectationSuite:
    """The suite as a GX object; fails loudly where GX would silently drop an expectation."""
    gx = gx_module()
    loaded = gx.ExpectationSuite(**json.loads(json.dumps(suite)))
    if len(loaded.expectations) != len(suite["expectations"]):
        raise ValueError(
            f"suite {suite['name']}: {len(suite['expectations']) - len(loaded.expectations)} "
            "expectation(s) are not valid for this Great Expectations version"
        )
    return loaded


def main() -> None:
    """Regenerate `expectations/` from the catalogue (`python -m transforms.quality.suites`)."""
    from transforms.config import get_environment

    for path in write_suites(get_environment().catalogue_dir, EXPECTATIONS_DIR):
        print(path.relative_to(PROJECT_ROOT))


if __name__ == "__main__":
    main()
