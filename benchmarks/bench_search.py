"""Bulk search time: N subjects drawn from truth/ matched against an existing lakehouse.

LAKEHOUSE_HOME=.lakehouse .venv/bin/python -m benchmarks.bench_search --subjects 1000

The lakehouse must already hold gold entities and an approved model. The search is not logged
in ops.search_log unless --log is given, so benchmarks do not count in the monthly figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import uuid
from datetime import date

import polars as pl

from transforms.config import PROJECT_ROOT, get_environment
from transforms.delta_io import read_table
from transforms.governance.search_ledger import log_search
from transforms.resolve.search import counts, search


def draw_subjects(people: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    """N people as a subjects file would hold them: full name, ISO date of birth, postcode."""
    drawn = people.sample(min(n, people.height), seed=seed, shuffle=True)
    return drawn.select(
        pl.col("person_id").cast(pl.String).alias("subject_id"),
        pl.concat_str("given_name", "family_name", separator=" ").alias("name"),
        pl.col("date_of_birth").dt.strftime("%Y-%m-%d").alias("date_of_birth"),
        "postcode",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--log", action="store_true", help="Record the search in ops.search_log.")
    args = parser.parse_args()
    env = get_environment()
    subjects = draw_subjects(
        pl.read_parquet(env.truth / "people.parquet"), args.subjects, args.seed
    )

    started = time.perf_counter()
    results = search(env, subjects)
    seconds = time.perf_counter() - started

    found = counts(results)
    if args.log:
        log_search(
            env,
            "BENCHMARK",
            "platform",
            "search benchmark",
            found.subjects,
            found.matched,
            found.links,
            seconds,
            uuid.uuid4().hex,
        )
    # Recall against truth: a subject is found when a matched entity holds one of its records.
    truth = pl.read_parquet(env.truth / "record_truth.parquet").select("record_key", "person_id")
    members = read_table(env, "gold.entity_records").select("entity_id", "record_key")
    owners = (
        members.join(truth, on="record_key")
        .select("entity_id", pl.col("person_id").cast(pl.String).alias("subject_id"))
        .unique()
    )
    resolvable = subjects.join(owners.select("subject_id").unique(), on="subject_id", how="semi")
    hits = results.join(owners, on=["subject_id", "entity_id"], how="semi")["subject_id"].n_unique()
    result = {
        "benchmark": "search",
        "date": date.today().isoformat(),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "lakehouse": str(env.home),
        "entities": read_table(env, "gold.entities").height,
        "records": members.height,
        "subjects": subjects.height,
        "seconds": round(seconds, 2),
        "subjects_per_second": round(subjects.height / seconds, 1),
        "subjects_matched": results.filter(pl.col("entity_id").is_not_null())[
            "subject_id"
        ].n_unique(),
        "entities_matched": found.matched,
        "links_found": found.links,
        "subjects_with_records": resolvable.height,
        "found_share": round(hits / max(resolvable.height, 1), 4),
        "logged": args.log,
    }
    out = (
        PROJECT_ROOT / "benchmarks" / "results" / f"{result['date']}-search-{subjects.height}.json"
    )
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
