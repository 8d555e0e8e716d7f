"""One run, every stage, side by side with the bare tools (issue 7 harness, first cut).

    .venv/bin/python -m benchmarks.harness --people 10000

Stages: generate; ingest (vs bare polars read -> write_deltalake of the same files); dbt
normalisation; entity resolution (train + resolve, vs a bare Splink script with the same settings
on the same records); the whole graph end to end in a fresh process (peak RSS of that process).
Writes benchmarks/results/<date>-<people>.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl
from deltalake import write_deltalake

from transforms.catalogue import load_catalogue
from transforms.config import PROJECT_ROOT, get_environment

BRONZE = "group:bronze_bulk_personal or group:bronze_bulk_comms or group:bronze_partner"
DBT = "group:dbt_staging or group:dbt_intermediate or group:dbt_silver"


def _timed(label: str, results: dict[str, float], fn) -> object:  # noqa: ANN001 - any callable
    start = time.perf_counter()
    value = fn()
    results[label] = round(time.perf_counter() - start, 2)
    print(f"{label:28s} {results[label]:8.2f} s", flush=True)
    return value


def bare_ingest(env, catalogue, out: Path) -> int:  # noqa: ANN001
    """The same files, read with polars and written with write_deltalake, nothing else."""
    rows = 0
    for name, dataset in catalogue.items():
        for file in sorted((env.landing / name).glob(f"*/{dataset.source.glob}")):
            fmt = dataset.source.format
            if fmt == "csv":
                frame = pl.read_csv(
                    file,
                    separator=dataset.source.separator,
                    infer_schema=False,
                    encoding="utf8-lossy" if dataset.source.encoding != "utf-8" else "utf8",
                )
            elif fmt == "jsonl":
                frame = pl.read_ndjson(file)
            else:
                frame = pl.read_parquet(file)
            write_deltalake(str(out / name), frame.to_arrow(), mode="append")
            rows += frame.height
    return rows


def bare_splink(env) -> None:  # noqa: ANN001
    """Bare Splink 5 with the project's settings on the same records: train, predict, cluster."""
    from splink import DuckDBAPI, Linker, block_on

    from transforms.resolve.config import load_resolution_config
    from transforms.resolve.linking import register_by_dataset
    from transforms.resolve.pipeline import silver_features
    from transforms.resolve.registry import approved_model
    from transforms.resolve.settings import build_settings

    config = load_resolution_config(env.catalogue_dir)
    features, _ = silver_features(env)
    db = DuckDBAPI()
    linker = Linker(
        register_by_dataset(db, features), build_settings(approved_model(env).blocking_rules)
    )
    training = config.training
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on(*c, arrays_to_explode=[x for x in c if x in ("postcodes", "phones")] or None)
            for c in training.deterministic_rules
        ],
        recall=training.deterministic_recall,
    )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=training.u_max_pairs, seed=training.seed
    )
    for columns in training.em_blocking:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*columns))
    predictions = linker.inference.predict(threshold_match_probability=config.evidence_threshold)
    linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, config.threshold_match_probability
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=10_000)
    args = parser.parse_args()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LAKEHOUSE_HOME"] = str(Path(tmp) / "lakehouse")
        env = get_environment()
        catalogue = load_catalogue(env.catalogue_dir)
        from orchestration.runner import load_definitions, run_assets
        from transforms.generate import generate_catalogue

        _timed("load definitions (once)", results, load_definitions)

        report = _timed(
            "generate",
            results,
            lambda: generate_catalogue(
                env.catalogue_dir, env.landing, env.truth, people=args.people, seed=42
            ),
        )
        _timed("ingest (lakehouse)", results, lambda: run_assets(env, BRONZE, log_level="ERROR"))
        _timed(
            "ingest (bare polars)", results, lambda: bare_ingest(env, catalogue, Path(tmp) / "bare")
        )
        _timed("dbt normalisation", results, lambda: run_assets(env, DBT, log_level="ERROR"))
        _timed(
            "silver publication",
            results,
            lambda: run_assets(env, "group:silver", log_level="ERROR"),
        )
        _timed(
            "er training",
            results,
            lambda: run_assets(env, "key:models/entity_resolution", log_level="ERROR"),
        )
        _timed(
            "er resolve (gold)",
            results,
            lambda: run_assets(env, "key:gold/* or key:ops/entity_id_changes", log_level="ERROR"),
        )
        _timed("er (bare splink)", results, lambda: bare_splink(env))
        fresh = Path(tmp) / "e2e"
        run_env = {**os.environ, "LAKEHOUSE_HOME": str(fresh)}
        lakehouse = str(Path(sys.executable).parent / "lakehouse")
        subprocess.run(
            [lakehouse, "generate", "--people", str(args.people)],
            env=run_env,
            check=True,
            capture_output=True,
        )
        _timed(
            "end to end (lakehouse run)",
            results,
            lambda: subprocess.run(
                [lakehouse, "run"], env=run_env, check=True, capture_output=True
            ),
        )
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    records = report.total_records  # type: ignore[attr-defined]
    out = {
        "date": date.today().isoformat(),
        "people": args.people,
        "records": records,
        "machine": {
            "cores": os.cpu_count(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "python": platform.python_version(),
        },
        "seconds": results,
        "ratios": {
            "ingest_speed_vs_bare_polars": round(
                results["ingest (bare polars)"] / results["ingest (lakehouse)"], 3
            ),
            "er_time_vs_bare_splink": round(
                (results["er training"] + results["er resolve (gold)"])
                / results["er (bare splink)"],
                3,
            ),
        },
        "records_per_second_end_to_end": round(records / results["end to end (lakehouse run)"]),
        "peak_rss_mb_end_to_end_process": round(peak_mb),
    }
    path = PROJECT_ROOT / "benchmarks" / "results" / f"{out['date']}-{args.people}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
