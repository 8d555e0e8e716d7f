"""Entity-resolution accuracy against a peer in the same run (issue 17).

For each error profile of the generator and each size: the whole lakehouse (`lakehouse run` in a
child process, timed) and a bare Splink script with Splink's generic comparison-library settings
on the same silver records, both scored pairwise against the generator's truth. Writes
`benchmarks/results/<date>-accuracy.json` and prints the table.

    python -m benchmarks.accuracy --people 10000 100000 --noise default hostile
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from transforms.config import PROJECT_ROOT, Environment, get_environment
from transforms.delta_io import read_table
from transforms.evaluate.entities import er_evaluation, pairwise_agreement
from transforms.storage import read_parquet

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
# Splink's own tutorial defaults: predict from 0.5, cluster at 0.95.
BARE_PREDICT = 0.5
BARE_CLUSTER = 0.95


def bare_generic_splink(features: pl.DataFrame) -> pl.DataFrame:
    """Splink 5 with the comparison library's generic comparisons; returns record_key, cluster.

    The peer: what a data scientist writes from Splink's documentation in an afternoon, on the
    same normalised records (first postcode, phone and e-mail of each record as scalars).
    """
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frame = features.select(
        "unique_id",
        "source_dataset",
        "given_name",
        "family_name",
        "date_of_birth",
        pl.col("postcodes").list.first().alias("postcode"),
        pl.col("phones").list.first().alias("phone"),
        (pl.col("emails").list.first() if "emails" in features.columns else pl.lit(None))
        .cast(pl.String)
        .alias("email"),
    )
    db = DuckDBAPI()
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("family_name"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=False),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("phone"),
            cl.EmailComparison("email"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "family_name"),
            block_on("family_name", "date_of_birth"),
            block_on("given_name", "date_of_birth"),
            block_on("postcode", "family_name"),
            block_on("phone"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(db.register(frame.to_arrow()), settings, log_level="WARNING")
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "family_name", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "family_name")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    predictions = linker.inference.predict(threshold_match_probability=BARE_PREDICT)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, BARE_CLUSTER
    )
    table = clusters.as_duckdbpyrelation().select("unique_id, cluster_id").to_arrow_table()
    return pl.from_arrow(table).rename({"unique_id": "record_key", "cluster_id": "cluster"})  # type: ignore[union-attr]


def truth_clusters(env: Environment) -> pl.DataFrame:
    truth = read_parquet(env.truth / "record_truth.parquet", columns=["record_key", "person_id"])
    return truth.unique("record_key").select("record_key", pl.col("person_id").alias("cluster"))


def scores(predicted: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    precision, recall, f1, _, _ = pairwise_agreement(predicted, truth)
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def measure(people: int, noise: str, work: Path, seed: int) -> dict[str, Any]:
    """One profile at one size: the lakehouse and the peer, on the same deliveries."""
    from transforms.generate import generate_catalogue
    from transforms.resolve.pipeline import silver_features

    home = work / f"{noise}-{people}"
    os.environ["LAKEHOUSE_HOME"] = str(home)
    env = get_environment()
    generate_catalogue(
        env.catalogue_dir, env.landing, env.truth, people=people, seed=seed, noise=noise
    )
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lakehouse"), "run"],
        env={**os.environ, "LAKEHOUSE_HOME": str(home)},
        capture_output=True,
        text=True,
    )
    lakehouse_seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"lakehouse run failed: {done.stderr[-2000:]}")
    ours = er_evaluation(env.truth, read_table(env, "gold.entity_records"))
    features, _ = silver_features(env)
    started = time.perf_counter()
    peer = bare_generic_splink(features)
    peer_seconds = time.perf_counter() - started
    truth = truth_clusters(env)
    return {
        "people": people,
        "noise": noise,
        "records": features.height,
        "lakehouse": {
            "precision": ours["pairwise_precision"],
            "recall": ours["pairwise_recall"],
            "f1": ours["pairwise_f1"],
            "seconds": round(lakehouse_seconds, 1),
        },
        "bare_generic_splink": {**scores(peer, truth), "seconds": round(peer_seconds, 1)},
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| profile | people | records | lakehouse P / R / F1 | s | bare Splink P / R / F1 | s |",
        "|---|---:|---:|---|---:|---|---:|",
    ]
    for r in rows:
        a, b = r["lakehouse"], r["bare_generic_splink"]
        lines.append(
            f"| {r['noise']} | {r['people']:,} | {r['records']:,} | "
            f"{a['precision']:.4f} / {a['recall']:.4f} / **{a['f1']:.4f}** | {a['seconds']:.0f} | "
            f"{b['precision']:.4f} / {b['recall']:.4f} / {b['f1']:.4f} | {b['seconds']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10_000])
    parser.add_argument("--noise", nargs="+", default=["default", "hostile"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="accuracy-") as folder:
        for people in args.people:
            for noise in args.noise:
                rows.append(measure(people, noise, Path(folder), args.seed))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
    result = {"date": date.today().isoformat(), "rows": rows}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    sizes = "-".join(str(p) for p in args.people)
    (args.out_dir / f"{date.today().isoformat()}-accuracy-{sizes}.json").write_text(
        json.dumps(result, indent=2) + "\n"
    )
    print(table(rows))
    return result


if __name__ == "__main__":
    main()
