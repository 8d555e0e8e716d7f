"""The bare tools the lakehouse is compared with: polars -> write_deltalake, and Splink alone."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from deltalake import write_deltalake

from transforms.catalogue import Dataset


def bare_ingest(landing: Path, catalogue: dict[str, Dataset], out: Path) -> int:
    """The same files read with polars and appended with write_deltalake: no checks, no ledger."""
    rows = 0
    for name, dataset in catalogue.items():
        for file in sorted((landing / name).glob(f"*/{dataset.source.glob}")):
            if dataset.source.format == "csv":
                frame = pl.read_csv(
                    file,
                    separator=dataset.source.separator,
                    has_header=dataset.source.has_header,
                    infer_schema=False,
                    encoding="utf8-lossy" if dataset.source.encoding != "utf-8" else "utf8",
                )
            elif dataset.source.format == "jsonl":
                frame = pl.read_ndjson(file)
            else:
                frame = pl.read_parquet(file)
            write_deltalake(str(out / name), frame.to_arrow(), mode="append")
            rows += frame.height
    return rows


def bare_splink(features: pl.DataFrame, blocking_rules: list[str], catalogue_dir: Path) -> int:
    """Splink 5 alone with the project's settings and training steps: train, predict, cluster.

    Returns the number of clusters. Same comparisons, blocking rules, training sample and
    thresholds as the lakehouse; no model registry, stable ids, gold tables or audits.
    """
    from splink import DuckDBAPI, Linker

    from transforms.resolve.config import load_resolution_config
    from transforms.resolve.linking import register_by_dataset
    from transforms.resolve.settings import build_settings
    from transforms.resolve.training import run_training_steps, training_sample

    config = load_resolution_config(catalogue_dir)
    training = config.training
    db = DuckDBAPI()
    settings = build_settings(blocking_rules)
    trainer = Linker(
        register_by_dataset(db, training_sample(features, training.max_records, training.seed)),
        settings,
    )
    run_training_steps(trainer, training)
    scoring_db = DuckDBAPI()
    linker = Linker(register_by_dataset(scoring_db, features), trainer.misc.save_model_to_json())
    predictions = linker.inference.predict(threshold_match_probability=config.evidence_threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, config.threshold_match_probability
    )
    counted = clusters.as_duckdbpyrelation().aggregate("count(distinct cluster_id)")
    return int(counted.to_arrow_table().column(0)[0].as_py())
