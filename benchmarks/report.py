"""The README's scaling table from harness results: one column per size.

.venv/bin/python -m benchmarks.report benchmarks/results/2026-11-25-*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def markdown(results: list[dict[str, Any]]) -> str:
    """Seconds per stage, goals and peak memory, smallest size first."""
    results = sorted(results, key=lambda r: r["people"])
    header = "| stage | " + " | ".join(f"{r['people']:,} people" for r in results) + " |"
    lines = [header, "|---|" + "---:|" * len(results)]
    lines.append("| records | " + " | ".join(f"{r['records']:,}" for r in results) + " |")
    for stage in results[-1]["seconds"]:
        cells = [f"{r['seconds'].get(stage, float('nan')):,.1f} s" for r in results]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    for name in results[-1]["goals"]:
        goal = results[-1]["goals"][name]["goal"]
        cells = [
            f"{r['goals'][name]['value']}" + ("" if r["goals"][name]["met"] else " ✗")
            for r in results
        ]
        lines.append(f"| {name} (goal {goal}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown([json.loads(Path(p).read_text()) for p in sys.argv[1:]]))
