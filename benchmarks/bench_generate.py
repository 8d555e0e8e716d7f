"""Generator throughput: records per second at a given population size.

.venv/bin/python -m benchmarks.bench_generate --people 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from datetime import date
from pathlib import Path

from transforms.config import PROJECT_ROOT
from transforms.generate import generate_catalogue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--deliveries", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = generate_catalogue(
            PROJECT_ROOT / "catalogue",
            Path(tmp) / "landing",
            Path(tmp) / "truth",
            people=args.people,
            seed=args.seed,
            deliveries=args.deliveries,
        )
    result = {
        "benchmark": "generate",
        "date": date.today().isoformat(),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "people": args.people,
        "deliveries": args.deliveries,
        "records": report.total_records,
        "seconds": round(report.seconds, 2),
        "records_per_second": round(report.records_per_second),
    }
    out = PROJECT_ROOT / "benchmarks" / "results" / f"{result['date']}-generate-{args.people}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
