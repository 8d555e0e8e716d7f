"""Why these records are one entity, why two records are not, and how an entity came to be.

Analysts defend every link in disclosure and in court, so each answer is built from what the
run recorded, not re-derived: the pairs the model scored (`gold.entity_evidence`, one match
weight per comparison), the merges the clustering made in order (`ops.er_state`, MERGE_COLUMNS
of transforms/resolve/clustering.py), the stewards' decisions (`ops.er_decisions`) and the
entity's id changes (`ops.entity_id_changes`, `gold.entity_records` history).

Each pair carries its match key (transforms/resolve/match_keys.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
from deltalake import DeltaTable

from transforms.config import Environment
from transforms.delta_io import read_where_in
from transforms.resolve.clustering import COMPONENT, MERGE_SCHEMA, constrained_clusters
from transforms.resolve.match_keys import comparison_names, match_key_expr

EVIDENCE = "gold.entity_evidence"
RECORDS = "gold.entity_records"
STATE = "ops.er_state"
PERSONS = "silver.person_records"


class NotVisible(LookupError):
    """The entity or record does not exist, or not within the user's clearance (one message)."""


def with_match_keys(pairs: pl.DataFrame) -> pl.DataFrame:
    """record_key_l, record_key_r, match_key, match_weight, match_probability (strongest first)."""
    return pairs.select(
        "record_key_l",
        "record_key_r",
        match_key_expr(comparison_names(pairs)).alias("match_key"),
        pl.col("match_weight").cast(pl.Float64),
        pl.col("match_probability").cast(pl.Float64),
    ).sort(["match_weight", "record_key_l", "record_key_r"], descending=[True, False, False])


def merge_steps(state: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """The clustering's merges of these records in order, each with the strongest scored pair
    between the two clusters it joined.

    `state`: record_key, merge_step, merge_into, merge_evidence, merge_forced of one entity's
    records (one candidate component's merges are numbered together, so steps may skip).
    `pairs`: `with_match_keys` of the pairs between them. Returns step, joined (the records
    that joined), into (the records they joined), evidence, forced, and the best pair's
    record_key_l, record_key_r, match_key, match_weight (null when no pair between them was
    kept as evidence).
    """
    keys = state["record_key"].to_list()
    cluster = {k: {k} for k in keys}
    weights = {(left, right): row for left, right, *row in pairs.iter_rows()}
    rows = []
    ordered = state.filter(pl.col("merge_step").is_not_null()).sort("merge_step")
    for joined, step, into, evidence, forced in ordered.select(
        "record_key", "merge_step", "merge_into", "merge_evidence", "merge_forced"
    ).iter_rows():
        left, right = cluster.get(joined, {joined}), cluster.get(into, {into})
        between = [
            (key, weights[key])
            for key in ((min(a, b), max(a, b)) for a in left for b in right)
            if key in weights
        ]
        best = max(between, key=lambda item: item[1][1]) if between else None
        rows.append(
            {
                "step": step,
                "joined": ", ".join(sorted(left)),
                "into": ", ".join(sorted(right)),
                "evidence": evidence,
                "forced": forced,
                "record_key_l": best[0][0] if best else None,
                "record_key_r": best[0][1] if best else None,
                "match_key": best[1][0] if best else None,
                "match_weight": best[1][1] if best else None,
            }
        )
        union = left | right
        for key in union:
            cluster[key] = union
    schema = {
        "step": pl.Int64,
        "joined": pl.String,
        "into": pl.String,
        "evidence": pl.Float64,
        "forced": pl.Boolean,
        "record_key_l": pl.String,
        "record_key_r": pl.String,
        "match_key": pl.String,
        "match_weight": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


@dataclass(frozen=True)
class Explanation:
    """What `lakehouse explain` shows of one entity."""

    entity: dict[str, object]
    records: pl.DataFrame  # record_key, source_dataset, names, date of birth, probability
    merges: pl.DataFrame  # merge_steps: the order the clustering joined them
    pairs: pl.DataFrame  # with_match_keys: every scored pair inside the entity
    accepted_whole: bool  # one candidate component whose pairs all agreed: merges replayed

    def summary(self) -> str:
        how = (
            f"accepted whole (every pair inside its candidate component agrees); "
            f"{self.merges.height} merges in the order average linkage makes them"
            if self.accepted_whole
            else f"{self.merges.height} merges"
        )
        return (
            f"entity {self.entity['entity_id']}: {self.records.height} records from "
            f"{len(self.entity.get('datasets') or [])} datasets, {self.pairs.height} scored pairs, "
            f"{how}"
        )


def read_rows(env: Environment, table: str, column: str, values: list[str]) -> pl.DataFrame:
    path = env.table_path(table)
    if not DeltaTable.is_deltatable(str(path)):
        raise NotVisible(f"{table} does not exist yet: run the pipeline first")
    dt = DeltaTable(str(path))
    columns = [f.name for f in dt.schema().fields]
    frame = pl.from_arrow(read_where_in(dt, columns, column, values))
    assert isinstance(frame, pl.DataFrame)
    return frame


def pairs_among(env: Environment, keys: list[str]) -> pl.DataFrame:
    """The scored pairs (gold.entity_evidence rows) with both records among `keys`."""
    left = read_rows(env, EVIDENCE, "record_key_l", keys)
    return left.filter(pl.col("record_key_r").is_in(keys))


def entity_records(env: Environment, entity_id: str) -> pl.DataFrame:
    return read_rows(env, RECORDS, "entity_id", [entity_id])


def explain_entity(
    env: Environment, entity_id: str, may_see: Callable[[str], bool], threshold: float
) -> Explanation:
    """The explanation of `entity_id`, if `may_see` (the user's clearance) allows its level.

    A component accepted whole (every pair agrees, so the run merged it at once) has its merge
    order replayed: average linkage on its pairs, all of which are kept as evidence."""
    members = entity_records(env, entity_id)
    entities = read_rows(env, "gold.entities", "entity_id", [entity_id])
    if members.height == 0 or entities.height == 0 or not may_see(entities["classification"][0]):
        raise NotVisible(f"no entity {entity_id} visible")
    keys = sorted(members["record_key"].to_list())
    persons = read_rows(env, PERSONS, "record_key", keys).select(
        "record_key", "given_name", "family_name", "date_of_birth"
    )
    records = (
        members.select("record_key", "source_dataset", "cluster_match_probability")
        .join(persons, on="record_key", how="left")
        .sort("record_key")
    )
    scored = pairs_among(env, keys)
    pairs = with_match_keys(scored)
    state = read_rows(env, STATE, "record_key", keys)
    state = state.with_columns(
        pl.lit(None, dtype=dtype).alias(column)
        for column, dtype in MERGE_SCHEMA.items()
        if column not in state.columns  # a state written before merges were traced
    )
    merges = merge_steps(state, pairs)
    single_component = COMPONENT in state.columns and state[COMPONENT].n_unique() == 1
    whole = len(keys) > 1 and merges.height == 0 and single_component
    if whole:
        merges = merge_steps(_replayed(records, scored, threshold), pairs)
    return Explanation(entities.to_dicts()[0], records, merges, pairs, accepted_whole=whole)


def _replayed(records: pl.DataFrame, scored: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """The merge trace average linkage gives these records on their scored pairs."""
    replay = constrained_clusters(
        records.select(pl.col("record_key").alias("unique_id"), "source_dataset"),
        scored.rename({"record_key_l": "unique_id_l", "record_key_r": "unique_id_r"}),
        threshold,
        [],
        accept_whole=False,
    )
    return replay.rename({"unique_id": "record_key"})
