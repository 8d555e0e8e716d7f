"""Stamp every asset with the classification that follows its lineage (tag and metadata).

Stamping reads only the definitions (the bronze roots' catalogue classifications): the
definitions stay a pure function of configuration. Recorded reclassifications are read when
they are needed, at run time (`asset_classifications(defs, reclassifications(env))`), so one
takes effect without a reload.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import dagster as dg

from transforms.governance.classification import propagate

# An asset that filters its rows to a clearance (a partner cut) declares it with this tag; the
# filter is its own explicit, recorded act (each cut is logged in ops.disclosures).
FILTER_TAG = "classification_filtered_to"


def asset_classifications(
    defs: dg.Definitions, reclassified: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Asset key string -> classification, from the bronze roots' tags down the graph."""
    graph = defs.resolve_asset_graph()
    parents: dict[str, set[str]] = {}
    roots: dict[str, str] = {}
    filtered: dict[str, str] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        parents[name] = {p.to_user_string() for p in node.parent_keys}
        if not node.parent_keys and "classification" in node.tags:
            roots[name] = node.tags["classification"]
        if FILTER_TAG in node.tags:
            filtered[name] = node.tags[FILTER_TAG]
    return propagate(parents, roots, {**filtered, **(reclassified or {})})


def with_classifications(defs: dg.Definitions) -> dg.Definitions:
    """The same definitions, every asset tagged `classification` and carrying it as metadata."""
    levels = asset_classifications(defs)

    def stamp(spec: dg.AssetSpec) -> dg.AssetSpec:
        level = levels.get(spec.key.to_user_string())
        if level is None:
            return spec
        return spec.replace_attributes(
            tags={**spec.tags, "classification": level},
            metadata={**spec.metadata, "classification": level},
        )

    # `map_resolved_asset_specs` is a preview API in Dagster 1.13 (tests/test_classification.py
    # covers it): only its own preview warning is silenced.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)
        return defs.map_resolved_asset_specs(func=stamp)
