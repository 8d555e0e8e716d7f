"""Resolve people: score (incrementally when possible), cluster, keep ids stable, build gold."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace

import polars as pl

from transforms.catalogue import load_catalogue
from transforms.config import Environment
from transforms.contract import GOLD_TABLES as GOLD_TABLES  # re-exported: orchestration uses it
from transforms.delta_io import current_version, read_path, read_table
from transforms.resolve import gold
from transforms.resolve.clustering import (
    COMPONENT,
    COMPONENT_SIZE,
    MAX_COMPONENT_RECORDS,
    MERGE_COLUMNS,
    constrained_clusters,
)
from transforms.resolve.config import ResolutionConfig, load_resolution_config
from transforms.resolve.decisions import Conflict, load_constraints
from transforms.resolve.feature_inputs import FEATURES_TABLE, reusable_features
from transforms.resolve.features import INPUT_COLUMNS, person_features
from transforms.resolve.generic_values import (
    generic_holders,
    generic_values,
    identifier_values,
    without_generic,
)
from transforms.resolve.registry import StoredModel, approved_model
from transforms.resolve.scoring import (
    Scored,
    component_scorer,
    feature_hashes,
    score_all,
    score_incremental,
)
from transforms.resolve.settings import HELD_SEVERAL
from transforms.resolve.stable_ids import assign_entity_ids


@dataclass
class Resolution:
    """Everything one resolution run produced."""

    model_version: int
    scored: Scored  # how it was scored; its edges are emptied once gold.entity_evidence holds them
    tables: dict[str, pl.DataFrame]  # gold tables by name
    state: pl.DataFrame  # ops.er_state: record_key, feature_hash, model_version
    changes: pl.DataFrame  # ops.entity_id_changes rows of this run
    conflicts: tuple[Conflict, ...] = ()  # stewards' must-links a cannot-link kept from applying
    features: pl.DataFrame | None = None  # the Splink input, published as ops.er_features
    features_changed: set[str] | None = None  # records whose features may differ (None: all)
    input_hashes: pl.DataFrame | None = None  # record_key, input_hash (feature_inputs.py)


SETTLED_COLUMNS = (COMPONENT, COMPONENT_SIZE, "cluster_id", *MERGE_COLUMNS)
"""What `ops.er_state` keeps of each record's clustering, so the next run re-clusters only the
components it touches (`constrained_clusters(settled=...)`)."""


def clustering_settings(threshold: float, duplicate_free: list[str]) -> str:
    """A fingerprint of what decides clusters besides the model: reuse only under the same one."""
    settings = {
        "threshold": threshold,
        "duplicate_free": sorted(duplicate_free),
        "held_several": sorted(HELD_SEVERAL),
        "max_component_records": MAX_COMPONENT_RECORDS,
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def settled_clusters(
    previous_state: pl.DataFrame, dirty: set[str], settings: str
) -> pl.DataFrame | None:
    """The previous run's clustering of every record whose features did not change since."""
    if not {COMPONENT, COMPONENT_SIZE, "cluster_id", "clustering"} <= set(previous_state.columns):
        return None  # a state written before components were kept: cluster everything
    if set(previous_state["clustering"].unique().to_list()) != {settings}:
        return None  # the threshold or a constraint changed: cluster everything
    return previous_state.filter(~pl.col("record_key").is_in(sorted(dirty))).select(
        pl.col("record_key").alias("unique_id"),
        *(c for c in SETTLED_COLUMNS if c in previous_state.columns),
    )


GENERIC_HOLDERS = "generic_value_holders"
"""The key of `silver_inputs`' second result holding `generic_holders` (not a silver table)."""

PERSONS, ADDRESSES, IDENTIFIERS, DOCUMENTS = INPUT_COLUMNS
SILVER_COLUMNS: dict[str, tuple[str, ...]] = {
    "person_records": ("record_key", *PERSONS),
    "addresses": ("record_key", *ADDRESSES, "classification"),
    "comms_identifiers": ("record_key", *IDENTIFIERS, "classification"),
    "document_identifiers": ("record_key", *DOCUMENTS),
}
"""The columns resolution reads of each silver table it reads whole: the features'
(`INPUT_COLUMNS`) and what gold takes besides (a value's classification). Lineage and raw
values stay on disk: at 1M people they are most of what a whole read would hold."""

EVENT_COLUMNS = ("event_key", "caller", "callee", "duration_s", "classification")
"""What `gold.entity_links` reads of `silver.comms_events` (read only when links are built)."""


def silver_versions(env: Environment) -> dict[str, int]:
    """The current version of each silver table resolution reads (`SILVER_COLUMNS`)."""
    versions = {name: current_version(env.table_path(f"silver.{name}")) for name in SILVER_COLUMNS}
    missing = sorted(name for name, version in versions.items() if version is None)
    if missing:
        raise LookupError(f"silver tables not yet published: {', '.join(missing)}")
    return versions  # type: ignore[return-value]


def read_silver(env: Environment, name: str, versions: dict[str, int]) -> pl.DataFrame:
    """`SILVER_COLUMNS[name]` of `silver.<name>` at the version this run started from."""
    return read_table(
        env, f"silver.{name}", version=versions[name], columns=list(SILVER_COLUMNS[name])
    )


def silver_inputs(
    env: Environment,
    config: ResolutionConfig | None = None,
    versions: dict[str, int] | None = None,
) -> tuple[tuple[pl.DataFrame, ...], dict[str, pl.DataFrame]]:
    """What `person_features` reads (person, address, identifier and document rows, generic
    values removed), and the silver tables (with `GENERIC_HOLDERS`)."""
    versions = versions or silver_versions(env)
    silver = {name: read_silver(env, name, versions) for name in SILVER_COLUMNS}
    config = config or load_resolution_config(env.catalogue_dir)
    persons = silver["person_records"]
    addresses, identifiers = silver["addresses"], silver["comms_identifiers"]
    documents = silver["document_identifiers"]
    values = identifier_values(persons, addresses, identifiers, documents)
    holders = generic_holders(values, config.generic_values)
    inputs = (persons, *without_generic(addresses, identifiers, documents, holders))
    return inputs, {**silver, GENERIC_HOLDERS: holders}


def silver_features(
    env: Environment, config: ResolutionConfig | None = None
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """The Splink input without generic values, built from silver, and the silver tables."""
    inputs, silver = silver_inputs(env, config)
    return person_features(*inputs), silver


def resolve(
    env: Environment,
    config: ResolutionConfig,
    *,
    full_rebuild: bool = False,
    model: StoredModel | None = None,
) -> Resolution:
    """One resolution run over the current silver tables.

    Each large frame is dropped once what follows no longer needs it (the previous features
    once the new are built, the previous evidence once scored, the scored pairs once gold
    holds them): at 1M people they do not fit side by side in the memory the issue allows. The
    silver tables are dropped once features are built and read again for gold, at the versions
    the features were built from, so a silver publication meanwhile cannot mix two versions."""
    model = model or approved_model(env)
    versions = silver_versions(env)
    inputs, silver = silver_inputs(env, config, versions)
    holders = silver.pop(GENERIC_HOLDERS)
    del silver  # `inputs` holds what features need; gold reads silver again (`read_silver`)
    published = None if full_rebuild else read_path(env.table_path(FEATURES_TABLE))
    features, input_hashes, inputs_changed = reusable_features(published, *inputs)
    del inputs, published
    hashes = feature_hashes(features)
    previous_state = None if full_rebuild else read_path(env.table_path("ops.er_state"))
    incremental = (
        previous_state is not None
        and previous_state.height > 0
        and set(previous_state["model_version"].unique().to_list()) == {model.version}
    )
    previous_edges = read_path(env.table_path("gold.entity_evidence")) if incremental else None
    duplicate_free = [
        d.name for d in load_catalogue(env.catalogue_dir).values() if d.duplicate_free
    ]
    settings = clustering_settings(config.threshold_match_probability, duplicate_free)
    decided = load_constraints(env)
    if previous_state is not None and previous_edges is not None:  # both only when incremental
        known = previous_state.select(
            pl.col("record_key").alias("unique_id"), pl.col("feature_hash").alias("old")
        )
        diff = hashes.join(known, on="unique_id", how="left")
        dirty = set(
            diff.filter(pl.col("old").is_null() | (pl.col("old") != pl.col("feature_hash")))[
                "unique_id"
            ]
        )
        edges = previous_edges.rename(
            {"record_key_l": "unique_id_l", "record_key_r": "unique_id_r"}
        ).drop("entity_id_l", "entity_id_r", "same_entity", "match_key", strict=False)
        del previous_edges
        scored = score_incremental(env, features, dirty, edges, model, config.evidence_threshold)
        del edges
        gone = set(
            known.join(hashes, on="unique_id", how="anti")["unique_id"].to_list()
        )  # records that left silver (a replaced cut, a destruction)
        features_changed: set[str] | None = (
            None if inputs_changed is None else dirty | gone | inputs_changed
        )
        # A decision's records are clustered afresh every run (decisions are few): a new or
        # withdrawn decision changes their clusters though not their features.
        settled = settled_clusters(previous_state, dirty | decided.records, settings)
    else:
        scored = score_all(env, features, model, config.evidence_threshold)
        settled = None
        features_changed = None
    del previous_state
    clusters = constrained_clusters(
        features,
        scored.edges,
        config.threshold_match_probability,
        duplicate_free,
        score_pairs=component_scorer(env, model),
        cannot_link=decided.cannot_link,
        must_link=decided.must_link,
        settled=settled,
    )
    del settled
    previous_ids = read_path(env.table_path("gold.entity_records"), ["entity_id", "record_key"])
    assigned, changes = assign_entity_ids(clusters, previous_ids)
    del previous_ids
    records = gold.entity_records(assigned, features, scored.edges)
    del assigned
    evidence = gold.entity_evidence(
        scored.edges.filter(pl.col("match_probability") >= config.evidence_threshold), records
    )
    scored = replace(scored, edges=scored.edges.clear())  # gold.entity_evidence holds them now
    entities = gold.entities(records, read_silver(env, "person_records", versions))
    links = gold.entity_links(
        records,
        read_silver(env, "addresses", versions),
        read_silver(env, "comms_identifiers", versions),
        read_table(env, "silver.comms_events", columns=list(EVENT_COLUMNS)),
        holders,
    )
    tables = {
        "entity_records": records,
        "entities": entities,
        "entity_links": links,
        "entity_evidence": evidence,
        "generic_values": generic_values(holders, records),
    }
    del holders
    state = (
        hashes.join(clusters.select("unique_id", *SETTLED_COLUMNS), on="unique_id", how="left")
        .rename({"unique_id": "record_key"})
        .with_columns(
            pl.lit(model.version).alias("model_version"), pl.lit(settings).alias("clustering")
        )
    )
    return Resolution(
        model.version,
        scored,
        tables,
        state,
        changes,
        decided.conflicts,
        features=features,
        features_changed=features_changed,
        input_hashes=input_hashes,
    )
