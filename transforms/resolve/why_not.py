"""Why two records are not one entity: a decision, a declared fact, the clustering, the score,
or blocking that never paired them.

The answers are checked in that order, since each earlier one overrides the later: a steward's
cannot-link keeps two records apart whatever the model says, two records of a duplicate-free
dataset are never one person, a pair above the threshold can still be kept apart by the other
pairs between the two entities, and a pair never compared has no score at all (the approved
model is asked what it would have scored, so the analyst sees the evidence either way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import polars as pl

from transforms.catalogue import load_catalogue
from transforms.config import Environment
from transforms.delta_io import read_path
from transforms.resolve.clustering import COMPONENT, threshold_weight
from transforms.resolve.decisions import read_decisions, standing
from transforms.resolve.explain import (
    RECORDS,
    NotVisible,
    pairs_among,
    read_rows,
    with_match_keys,
)
from transforms.resolve.features import person_features
from transforms.resolve.generic_values import without_generic
from transforms.resolve.registry import StoredModel, approved_model
from transforms.resolve.scoring import component_scorer
from transforms.resolve.settings import CANDIDATE_BLOCKING_RULES

Verdict = str  # same_entity | decision | duplicate_free | clustered_apart | below_threshold | never_compared


@dataclass(frozen=True)
class WhyNot:
    """The answer for one pair of records."""

    record_keys: tuple[str, str]
    entity_ids: tuple[str, str]
    verdict: Verdict
    reason: str  # one sentence, what the command prints first
    pair: dict[str, object] | None = None  # match_key, match_weight, match_probability
    blocking_rules: tuple[str, ...] = ()  # the approved model's rules that pair them
    between: pl.DataFrame = field(default_factory=pl.DataFrame)  # pairs across the two entities


def pairing_rules(features: pl.DataFrame, left: str, right: str, rules: list[str]) -> list[str]:
    """The blocking rules (names in settings.CANDIDATE_BLOCKING_RULES) that pair the two records,
    evaluated with each rule's own SQL in DuckDB, arrays exploded as Splink explodes them."""
    con = duckdb.connect(":memory:")
    try:
        con.register("features", features.to_arrow())
        found = []
        for name in rules:
            rule = CANDIDATE_BLOCKING_RULES[name].get_blocking_rule("duckdb")
            arrays = list(getattr(rule, "array_columns_to_explode", None) or [])
            select = (
                "select * replace ("
                + ", ".join(f'unnest("{a}") as "{a}"' for a in arrays)
                + ") from features"
                if arrays
                else "select * from features"
            )
            sql = (
                f"with l as ({select} where unique_id = $l), r as ({select} where unique_id = $r) "
                f"select count(*) from l, r where {rule.blocking_rule_sql}"
            )
            (count,) = con.execute(sql, {"l": left, "r": right}).fetchall()[0]
            if count:
                found.append(name)
        return found
    finally:
        con.close()


def features_of(env: Environment, keys: list[str]) -> pl.DataFrame:
    """The Splink feature rows of `keys`, built from their silver rows as resolution builds them
    (generic values, as the last run listed them in gold.generic_values, left out)."""
    generic = read_path(env.table_path("gold.generic_values"))
    parts = [
        read_rows(env, f"silver.{table}", "record_key", keys)
        for table in ("addresses", "comms_identifiers", "document_identifiers")
    ]
    if generic is not None:
        parts = list(without_generic(*parts, generic))
    return person_features(read_rows(env, "silver.person_records", "record_key", keys), *parts)


def score_pair(env: Environment, features: pl.DataFrame, model: StoredModel) -> pl.DataFrame:
    """The approved model's score of the pair in `features` (two rows), whatever blocking did."""
    scored = component_scorer(env, model)(features.with_columns(pl.lit("pair").alias(COMPONENT)))
    return with_match_keys(
        scored.rename({"unique_id_l": "record_key_l", "unique_id_r": "record_key_r"})
    )


def why_not(
    env: Environment,
    left: str,
    right: str,
    may_see: Callable[[str], bool],
    threshold: float,
) -> WhyNot:
    """Why `left` and `right` are not one entity (or that they are)."""
    if left == right:
        raise ValueError("why-not needs two different record keys")
    members = read_rows(env, RECORDS, "record_key", [left, right])
    found = {k: row for k, row in zip(members["record_key"], members.to_dicts(), strict=True)}
    for key in (left, right):
        if key not in found or not may_see(str(found[key]["classification"])):
            raise NotVisible(f"no record {key} visible")
    a, b = sorted((left, right))
    ids = (str(found[a]["entity_id"]), str(found[b]["entity_id"]))
    keys = (a, b)
    if ids[0] == ids[1]:
        return WhyNot(keys, ids, "same_entity", f"{a} and {b} are one entity, {ids[0]}")
    decision = _deciding(env, a, b)
    if decision is not None:
        return WhyNot(keys, ids, "decision", decision)
    datasets = (str(found[a]["source_dataset"]), str(found[b]["source_dataset"]))
    catalogue = load_catalogue(env.catalogue_dir)
    if (
        datasets[0] == datasets[1]
        and datasets[0] in catalogue
        and catalogue[datasets[0]].duplicate_free
    ):
        return WhyNot(
            keys,
            ids,
            "duplicate_free",
            f"both records are from {datasets[0]}, declared duplicate-free: never one entity",
        )
    scored = with_match_keys(pairs_among(env, [a, b]))
    if scored.height:
        pair = scored.to_dicts()[0]
        if float(pair["match_probability"]) >= threshold:
            between = _between(env, ids)
            return WhyNot(
                keys,
                ids,
                "clustered_apart",
                f"scored {pair['match_probability']:.3f} ({pair['match_key']}), above the "
                f"threshold {threshold}, but the {between.height} scored pairs between {ids[0]} "
                f"and {ids[1]}, taken together, are not enough evidence to merge the two",
                pair,
                between=between,
            )
        return WhyNot(
            keys,
            ids,
            "below_threshold",
            f"scored {pair['match_probability']:.3f} ({pair['match_key']}, weight "
            f"{pair['match_weight']:.2f} against the threshold's {threshold_weight(threshold):.2f})",
            pair,
        )
    model = approved_model(env)
    features = features_of(env, [a, b])
    rules = pairing_rules(features, a, b, list(model.blocking_rules))
    rescored = score_pair(env, features, model)
    pair = rescored.to_dicts()[0] if rescored.height else None
    would = (
        f"; the approved model v{model.version} scores the pair {pair['match_probability']:.3f} "
        f"({pair['match_key']})"
        if pair
        else ""
    )
    if rules:
        return WhyNot(
            keys,
            ids,
            "below_threshold",
            f"compared (blocking rules {', '.join(rules)}) and scored below the evidence kept"
            f"{would}",
            pair,
            tuple(rules),
        )
    return WhyNot(
        keys,
        ids,
        "never_compared",
        f"never compared: none of the model's blocking rules ({', '.join(model.blocking_rules)}) "
        f"pairs them{would}",
        pair,
    )


def _deciding(env: Environment, a: str, b: str) -> str | None:
    """The standing steward's decision that keeps `a` and `b` apart, described, if any."""
    rows = standing(read_decisions(env))
    for row in rows.to_dicts():
        keys = set(row["record_keys"] or [])
        apart = set(row["apart_from"] or [])
        cannot = row["decision"] == "cannot_link" and {a, b} <= keys
        split = row["decision"] == "split" and ({a, b} & keys) and ({a, b} & apart)
        if cannot or split:
            return (
                f"kept apart by {row['user']}'s {row['decision'].replace('_', '-')} decision "
                f"{row['decision_id']} of {row['decided_at']:%Y-%m-%d}: {row['reason']}"
            )
    return None


def _between(env: Environment, ids: tuple[str, str]) -> pl.DataFrame:
    """The scored pairs with one record in each of the two entities."""
    first = read_rows(env, RECORDS, "entity_id", [ids[0]])["record_key"].to_list()
    second = read_rows(env, RECORDS, "entity_id", [ids[1]])["record_key"].to_list()
    pairs = pairs_among(env, sorted(first + second))
    return with_match_keys(
        pairs.filter(
            (pl.col("record_key_l").is_in(first) & pl.col("record_key_r").is_in(second))
            | (pl.col("record_key_l").is_in(second) & pl.col("record_key_r").is_in(first))
        )
    )
