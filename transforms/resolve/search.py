"""Bulk search: a list of subjects matched against the resolved entities with the approved model.

Subjects are normalised with the project's own rules and shaped exactly like the resolution
input (`features.person_features`), then scored against every current record with the same
approved Splink model and frozen term frequencies that built the entities, so a subject matches
a record exactly when that record would have joined the subject's entity. Matched records map to
their entities (`gold.entity_records`); each entity carries its best name, date of birth,
classification and the entities linked to it (`gold.entity_links`).

This module only matches. What a user may see, and the ledger every search is logged in, are
governance (`transforms.governance.clearance`, `transforms.governance.search_ledger`); callers
search through `transforms.governance.search.audited_search`, which audits every search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from transforms.config import Environment
from transforms.contract import LOWEST
from transforms.delta_io import read_table
from transforms.normalise.addresses import normalise_postcode
from transforms.normalise.dates import parse_birth
from transforms.normalise.names import parse_name
from transforms.normalise.phones import to_e164
from transforms.normalise.text import name_part
from transforms.resolve.backend import model_session, to_polars
from transforms.resolve.config import load_resolution_config
from transforms.resolve.feature_store import resolution_features
from transforms.resolve.features import (
    canonical_name,
    name_variants,
    with_all_feature_columns,
)
from transforms.resolve.linking import model_linker, register_by_dataset
from transforms.resolve.registry import StoredModel, approved_model

SUBJECT_DATASET = "search_subjects"
SUBJECT_PREFIX = "subject:"
SUBJECT_CLASSIFICATION = LOWEST
SUBJECT_COLUMNS = (
    "subject_id",
    "name",
    "given_name",
    "family_name",
    "date_of_birth",
    "postcode",
    "phone",
)
FEATURE_SCHEMA = {
    "unique_id": pl.String,
    "source_dataset": pl.String,
    "classification": pl.String,
    "given_name": pl.String,
    "middle_names": pl.String,
    "family_name": pl.String,
    "given_name_variants": pl.List(pl.String),
    "date_of_birth": pl.Date,
    "birth_year": pl.Int64,
    "postcodes": pl.List(pl.String),
    "phones": pl.List(pl.String),
    "documents": pl.List(pl.String),
}
RESULT_SCHEMA = {
    "subject_id": pl.String,
    "entity_id": pl.String,
    "match_probability": pl.Float64,
    "given_name": pl.String,
    "family_name": pl.String,
    "date_of_birth": pl.Date,
    "classification": pl.String,
    "linked_entities": pl.List(pl.String),
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UK_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")


# --- subjects -------------------------------------------------------------------------------


def _normalise_headers(subjects: pl.DataFrame, source: str = "subjects") -> pl.DataFrame:
    """Lower-case, trimmed headers; unknown or repeated columns refused; missing ones null."""
    names = [c.strip().lower() for c in subjects.columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{source}: columns {repeated} appear more than once")
    unknown = [n for n in names if n not in SUBJECT_COLUMNS]
    if unknown:
        raise ValueError(
            f"{source}: unknown columns {unknown}; expected any of {list(SUBJECT_COLUMNS)}"
        )
    frame = subjects.rename(dict(zip(subjects.columns, names, strict=True)))
    frame = frame.with_columns(pl.col(n).cast(pl.String) for n in names)
    missing = [c for c in SUBJECT_COLUMNS if c not in names]
    return frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing).select(
        SUBJECT_COLUMNS
    )


def read_subjects(path: Path) -> pl.DataFrame:
    """The subjects CSV as text columns (headers case-insensitive); errors name the file."""
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: subjects file not found") from exc
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"{path}: not a readable CSV: {exc}") from exc
    if frame.height == 0:
        raise ValueError(f"{path}: no subjects (the file has a header but no rows)")
    subjects = _normalise_headers(frame, str(path))
    try:
        subjects_to_features(subjects)  # refuse an unusable row before any search starts
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return subjects


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def _birth(text: str) -> tuple[date, int] | None:
    """ISO `YYYY-MM-DD` or `DD/MM/YYYY` -> (date, year), None when not a date of birth."""
    fmt = "%Y-%m-%d" if _ISO_DATE.match(text) else "%d/%m/%Y" if _UK_DATE.match(text) else None
    if fmt is None:
        return None
    parsed = parse_birth(text, fmt)
    if parsed.date_of_birth is None or parsed.birth_year is None:
        return None
    return parsed.date_of_birth, parsed.birth_year


def _subject_row(number: int, row: dict[str, str | None]) -> dict[str, object]:
    """One subject -> one feature row; ValueError names the row and the field."""
    subject_id = _text(row["subject_id"]) or str(number)
    where = f"subjects row {number} (subject_id {subject_id!r})"
    given, middle, family = None, None, None
    name = _text(row["name"])
    if name is not None:
        style = "surname_comma_forenames" if "," in name else "forename_middle_surname"
        parsed = parse_name(name, style)
        given, middle, family = parsed.given_name, parsed.middle_names, parsed.family_name
        if given is None and family is None:
            raise ValueError(f"{where}: name: {name!r} holds no name")
    explicit_given = name_part(_text(row["given_name"]))
    if explicit_given is not None:
        given = explicit_given.split(" ")[0]  # the first forename, as silver keeps it
    elif _text(row["given_name"]) is not None:
        raise ValueError(f"{where}: given_name: {row['given_name']!r} holds no name")
    explicit_family = name_part(_text(row["family_name"]))
    if explicit_family is not None:
        family = explicit_family
    elif _text(row["family_name"]) is not None:
        raise ValueError(f"{where}: family_name: {row['family_name']!r} holds no name")

    date_of_birth, birth_year = None, None
    dob_text = _text(row["date_of_birth"])
    if dob_text is not None:
        birth = _birth(dob_text)
        if birth is None:
            raise ValueError(
                f"{where}: date_of_birth: {dob_text!r} is not a date of birth (YYYY-MM-DD or DD/MM/YYYY)"
            )
        date_of_birth, birth_year = birth

    postcode = None
    postcode_text = _text(row["postcode"])
    if postcode_text is not None:
        postcode = normalise_postcode(postcode_text)
        if postcode is None:
            raise ValueError(f"{where}: postcode: {postcode_text!r} is not a UK postcode")

    phone = None
    phone_text = _text(row["phone"])
    if phone_text is not None:
        phone = to_e164(phone_text)
        if phone is None:
            raise ValueError(f"{where}: phone: {phone_text!r} is not a phone number")

    if given is None and family is None and phone is None and postcode is None:
        raise ValueError(
            f"{where}: name: a subject needs a name, a phone or a postcode to search on"
        )
    return {
        "unique_id": SUBJECT_PREFIX + subject_id,
        "source_dataset": SUBJECT_DATASET,
        "classification": SUBJECT_CLASSIFICATION,
        "given_name": given,
        "middle_names": middle,
        "family_name": family,
        "date_of_birth": date_of_birth,
        "birth_year": birth_year,
        "postcodes": [postcode] if postcode else None,
        "phones": [phone] if phone else None,
        "documents": None,
    }


def subjects_to_features(subjects: pl.DataFrame) -> pl.DataFrame:
    """Subjects shaped exactly like `person_features` output, in file order."""
    frame = _normalise_headers(subjects)
    if frame.height == 0:
        raise ValueError("subjects: no rows to search")
    rows = [_subject_row(i, row) for i, row in enumerate(frame.iter_rows(named=True), start=1)]
    ids = [str(r["unique_id"]) for r in rows]
    repeated = sorted({i.removeprefix(SUBJECT_PREFIX) for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"subjects: subject_id {repeated} used by more than one row")
    raw = pl.DataFrame(
        rows, schema={k: v for k, v in FEATURE_SCHEMA.items() if k != "given_name_variants"}
    )
    features = raw.with_columns(
        canonical_name("given_name"), canonical_name("middle_names"), canonical_name("family_name")
    )
    variants = [list(name_variants(g)) for g in features["given_name"].to_list()]
    return with_all_feature_columns(
        features.with_columns(pl.Series("given_name_variants", variants, dtype=pl.List(pl.String)))
    )


# --- matching -------------------------------------------------------------------------------


def score_subjects(
    env: Environment,
    subject_features: pl.DataFrame,
    records: pl.DataFrame,
    model: StoredModel,
    threshold: float,
) -> pl.DataFrame:
    """Pairs (subject unique_id, record_key, match_probability) at or above `threshold`."""
    empty = pl.DataFrame(
        schema={"unique_id": pl.String, "record_key": pl.String, "match_probability": pl.Float64}
    )
    if subject_features.height == 0 or records.height == 0:
        return empty
    with model_session(env, model) as db:
        subject_tables = register_by_dataset(db, subject_features, prefix="subject_")
        record_tables = register_by_dataset(db, records, prefix="record_")
        linker = model_linker(db, subject_tables + record_tables, model)
        scored = to_polars(
            linker.inference.predict_between(
                subject_tables,
                record_tables,
                threshold_match_probability=threshold,
                warning_mode="never",  # the approved model's training already reported its gaps
            )
        )
    if scored.height == 0:
        return empty
    left_is_subject = pl.col("source_dataset_l") == SUBJECT_DATASET
    return scored.select(
        pl.when(left_is_subject).then("unique_id_l").otherwise("unique_id_r").alias("unique_id"),
        pl.when(left_is_subject).then("unique_id_r").otherwise("unique_id_l").alias("record_key"),
        pl.col("match_probability").cast(pl.Float64),
    )


def in_result_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Results as the caller sees them: subjects in file order (`_order`), best match first."""
    return frame.sort(
        "_order",
        pl.col("match_probability").fill_null(-1.0),
        "entity_id",
        descending=[False, True, False],
    ).select([pl.col(c).cast(t) for c, t in RESULT_SCHEMA.items()])


def linked_entities(links: pl.DataFrame) -> pl.DataFrame:
    """entity_id -> sorted list of the distinct entities linked to it (either direction)."""
    both = pl.concat(
        [
            links.select(
                pl.col("entity_id_a").alias("entity_id"), pl.col("entity_id_b").alias("other")
            ),
            links.select(
                pl.col("entity_id_b").alias("entity_id"), pl.col("entity_id_a").alias("other")
            ),
        ]
    )
    return both.group_by("entity_id").agg(pl.col("other").unique().sort().alias("linked_entities"))


def assemble(
    subject_features: pl.DataFrame,
    pairs: pl.DataFrame,
    members: pl.DataFrame,
    entities: pl.DataFrame,
    links: pl.DataFrame,
) -> pl.DataFrame:
    """One row per (subject, entity) with the best probability; unmatched subjects once, null."""
    order = subject_features.select(
        pl.col("unique_id"),
        pl.col("unique_id").str.strip_prefix(SUBJECT_PREFIX).alias("subject_id"),
        pl.int_range(pl.len()).alias("_order"),
    )
    best = (
        pairs.join(members.select("record_key", "entity_id"), on="record_key", how="inner")
        .group_by("unique_id", "entity_id")
        .agg(pl.col("match_probability").max())
    )
    details = entities.select(
        "entity_id", "given_name", "family_name", "date_of_birth", "classification"
    )
    assembled = (
        order.join(best, on="unique_id", how="left")
        .join(details, on="entity_id", how="left")
        .join(linked_entities(links), on="entity_id", how="left")
        .with_columns(
            pl.when(pl.col("entity_id").is_not_null())
            .then(pl.col("linked_entities").fill_null(pl.lit([], dtype=pl.List(pl.String))))
            .alias("linked_entities")
        )
    )
    return in_result_order(assembled)


def search(
    env: Environment,
    subjects: pl.DataFrame,
    *,
    model: StoredModel | None = None,
    threshold: float | None = None,
) -> pl.DataFrame:
    """Match subjects against the resolved entities with the approved model (RESULT_SCHEMA)."""
    subject_features = subjects_to_features(subjects)
    model = model or approved_model(env)
    if threshold is None:
        threshold = load_resolution_config(env.catalogue_dir).search_threshold
    records = resolution_features(env)
    pairs = score_subjects(env, subject_features, records, model, threshold)
    return assemble(
        subject_features,
        pairs,
        read_table(env, "gold.entity_records"),
        read_table(env, "gold.entities"),
        read_table(env, "gold.entity_links"),
    )


# --- figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchCounts:
    subjects: int
    matched: int  # distinct entities
    links: int  # distinct links between a matched entity and another entity


def counts(results: pl.DataFrame) -> SearchCounts:
    """Distinct subjects, matched entities and links in a search result."""
    matched = results.filter(pl.col("entity_id").is_not_null())
    pairs = (
        matched.select("entity_id", "linked_entities")
        .explode("linked_entities")
        .drop_nulls()
        .select(
            pl.min_horizontal("entity_id", "linked_entities").alias("a"),
            pl.max_horizontal("entity_id", "linked_entities").alias("b"),
        )
        .unique()
    )
    return SearchCounts(
        results["subject_id"].n_unique(), matched["entity_id"].n_unique(), pairs.height
    )
