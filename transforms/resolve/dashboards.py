"""Splink's comparison viewer and cluster studio, written as HTML under `reports/er/`.

Both pages must render air-gapped. Splink's pages carry their JavaScript inline; their web-font
links are dropped and a Content-Security-Policy `<meta>` (inline scripts and styles, data:
images, nothing from the network) is put right after `<head>`, so the browser refuses any load.
After writing, every page is scanned for network loads or a missing policy, and the scan's
result is returned (and shown in the UI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from transforms.config import Environment
from transforms.html_pages import SCRIPTED_CSP, remote_references, with_csp
from transforms.resolve.backend import model_session
from transforms.resolve.linking import model_linker, register_by_dataset
from transforms.resolve.registry import StoredModel
from transforms.storage import StoragePath, make_dirs, staged

_FONT_LINK = re.compile(
    r"""<link[^>]*(?:fonts\.googleapis\.com|fonts\.gstatic\.com)[^>]*>\s*""", re.IGNORECASE
)


VIEWER_ENTITIES = 500  # multi-record entities scored for the pages: a flat cost at any size


@dataclass(frozen=True)
class Dashboard:
    path: StoragePath
    remote_references: list[str]

    @property
    def offline(self) -> bool:
        return not self.remote_references


def make_self_contained(html: str) -> str:
    """Drop the web-font links Splink's pages carry; the pages fall back to local fonts."""
    return _FONT_LINK.sub("", html)


def sampled_members(records: pl.DataFrame, viewer_entities: int) -> pl.DataFrame:
    """unique_id, cluster_id: the records of the first `viewer_entities` multi-record entities
    (by id, so the sample is the same whatever the order of `records`)."""
    multi = (
        records.group_by("entity_id").len().filter(pl.col("len") > 1).sort("entity_id")["entity_id"]
    )
    shown = multi.head(viewer_entities)
    return (
        records.filter(pl.col("entity_id").is_in(shown.implode()))
        .select(pl.col("record_key").alias("unique_id"), pl.col("entity_id").alias("cluster_id"))
        .sort("cluster_id", "unique_id")
    )


def write_dashboards(
    env: Environment,
    features: pl.DataFrame,
    records: pl.DataFrame,
    model: StoredModel,
    sample_size: int = 20,
    viewer_entities: int = VIEWER_ENTITIES,
) -> list[Dashboard]:
    """Comparison viewer and cluster studio over a fixed sample of multi-record entities.

    Both pages are for reading, not for every pair: scoring only the sampled entities' records
    keeps their cost flat whatever the size of the catalogue.
    """
    out = env.reports / "er"
    make_dirs(out)
    members = sampled_members(records, viewer_entities)
    shown = members["cluster_id"].unique(maintain_order=True)
    sampled = features.join(members.select("unique_id"), on="unique_id", how="semi")
    with model_session(env, model) as db:
        linker = model_linker(db, register_by_dataset(db, sampled), model)
        predictions = linker.inference.predict(threshold_match_probability=0.5)
        clusters = db.register(
            sampled.join(members, on="unique_id").to_arrow(), table_name="__clustered"
        )
        big = shown.head(sample_size).to_list()
        pages = {
            "comparison_viewer.html": lambda p: linker.visualisations.comparison_viewer_dashboard(
                predictions, str(p), overwrite=True, num_example_rows=2
            ),
            "cluster_studio.html": lambda p: linker.visualisations.cluster_studio_dashboard(
                predictions, clusters, str(p), cluster_ids=big, overwrite=True
            ),
        }
        written = []
        for name, render in pages.items():
            path = out / name
            with staged(path) as local:  # Splink writes local files only
                render(local)
                html = with_csp(
                    make_self_contained(local.read_text(errors="replace")), SCRIPTED_CSP
                )
                local.write_text(html)
            written.append(Dashboard(path, remote_references(html)))
    return written


def write_dashboards_for(env: Environment) -> list[Dashboard]:
    """The dashboards of the published gold entities, scored by the approved model."""
    from transforms.delta_io import read_table
    from transforms.resolve.feature_store import resolution_features
    from transforms.resolve.registry import approved_model

    records = read_table(env, "gold.entity_records", columns=["entity_id", "record_key"])
    keys = sampled_members(records, VIEWER_ENTITIES)["unique_id"].to_list()
    features = resolution_features(env, keys)  # only the sample's records are read
    return write_dashboards(env, features, records, approved_model(env))
