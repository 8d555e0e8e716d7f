"""The same catalogue through the whole graph on each engine, side by side, in one run.

    make bench-engines PEOPLE=100000   (or: .venv/bin/python -m benchmarks.engines --people N)

Generates N people once, then for each engine (DuckDB, Spark local[N]) runs `lakehouse run
--report` in a child process on its own fresh lakehouse: wall time, summed peak RSS of the process
tree (the Spark JVM and dbt included), each stage's time, and accuracy against truth. The two
engines' clusters are compared with each other (pairwise F1). Writes
benchmarks/results/<date>-<people>-engines.json and prints a table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from benchmarks.harness import commit, lakehouse_run, machine, save_result, stage_seconds
from transforms.config import ENGINES, PROJECT_ROOT, Environment, get_environment
from transforms.delta_io import read_table
from transforms.evaluate.entities import er_evaluation, pairwise_agreement


def engine_run(engine: str, source: Environment, work: Path) -> tuple[Environment, dict[str, Any]]:
    """The whole graph on `engine` over a copy of the generated landing folder."""
    os.environ["LAKEHOUSE_HOME"] = str(work / engine)
    os.environ["LAKEHOUSE_ENGINE"] = engine
    env = get_environment()
    shutil.copytree(source.landing, env.landing)
    shutil.copytree(source.truth, env.truth)
    seconds, peak_mb, report = lakehouse_run(env, work / f"{engine}.json")
    if not report["success"]:
        raise RuntimeError(f"{engine}: lakehouse run failed: {report['failures']}")
    accuracy = er_evaluation(env.truth, read_table(env, "gold.entity_records"))
    return env, {
        "end_to_end_seconds": seconds,
        "peak_rss_gb": round(peak_mb / 1024, 2),
        "stages": stage_seconds(report["step_seconds"]),
        "person_records": read_table(env, "silver.person_records").height,
        "pairwise_f1_vs_truth": accuracy["pairwise_f1"],
        "entities": accuracy["entities"],
    }


def compare_engines(people: int, work: Path, seed: int = 42) -> dict[str, Any]:
    from transforms.generate import generate_catalogue

    os.environ["LAKEHOUSE_HOME"] = str(work / "generated")
    source = get_environment()
    report = generate_catalogue(
        source.catalogue_dir, source.landing, source.truth, people=people, seed=seed
    )
    runs = {engine: engine_run(engine, source, work) for engine in ENGINES}
    clusters = {
        engine: read_table(env, "gold.entity_records").select(
            "record_key", pl.col("entity_id").alias("cluster")
        )
        for engine, (env, _) in runs.items()
    }
    _, _, agreement, _, _ = pairwise_agreement(clusters["spark"], clusters["duckdb"])
    return {
        "date": date.today().isoformat(),
        "people": people,
        "records": sum(report.rows.values()),
        "commit": commit(),
        "machine": machine(),
        "spark": get_environment().spark.master,
        "engines": {engine: result for engine, (_, result) in runs.items()},
        "clusters_pairwise_f1_spark_vs_duckdb": round(agreement, 4),
    }


def print_table(result: dict[str, Any]) -> None:
    engines = result["engines"]
    table = Table(title=f"{result['people']:,} people, {result['records']:,} records")
    table.add_column("")
    for engine in engines:
        table.add_column(engine, justify="right")
    rows = [
        (stage, [f"{e['stages'][stage]:.1f} s" for e in engines.values()])
        for stage in next(iter(engines.values()))["stages"]
    ]
    rows += [
        ("end to end", [f"{e['end_to_end_seconds']:.1f} s" for e in engines.values()]),
        ("peak RSS (tree)", [f"{e['peak_rss_gb']:.2f} GB" for e in engines.values()]),
        ("pairwise F1 vs truth", [f"{e['pairwise_f1_vs_truth']:.4f}" for e in engines.values()]),
    ]
    for name, values in rows:
        table.add_row(name, *values)
    console = Console()
    console.print(table)
    console.print(
        f"clusters, Spark vs DuckDB: pairwise F1 {result['clusters_pairwise_f1_spark_vs_duckdb']}"
    )


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out-dir", type=Path, default=PROJECT_ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lakehouse-engines-") as tmp:
        result = compare_engines(args.people, Path(tmp), seed=args.seed)
    path = save_result(result, args.out_dir / f"{result['date']}-{args.people}-engines.json")
    print_table(result)
    print(f"written {path}")
    return path


if __name__ == "__main__":
    main()
