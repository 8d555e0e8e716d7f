"""Profile one asset selection of an existing lakehouse with pyinstrument (how the hot spots in
the README were found).

    LAKEHOUSE_HOME=/tmp/b1m .venv/bin/python -m benchmarks.profile_step \\
        --select "key:gold/* or key:ops/entity_id_changes" --full-rebuild --out resolve.txt

Great Expectations is imported before profiling, as an earlier step of a whole run would have.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pyinstrument import Profiler

from orchestration.runner import definitions_for, run_assets
from transforms.config import get_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--select", required=True, help="Dagster asset selection")
    parser.add_argument("--full-rebuild", action="store_true", help="resolve_entities from scratch")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    env = get_environment()
    defs = definitions_for(env)
    import great_expectations  # noqa: F401 - paid once per process in a whole run

    config = {"ops": {"resolve_entities": {"config": {"full_rebuild": True}}}}
    profiler = Profiler(interval=0.01)
    profiler.start()
    report = run_assets(
        env,
        args.select,
        defs=defs,
        run_config=config if args.full_rebuild else None,
    )
    profiler.stop()
    args.out.write_text(profiler.output_text(unicode=False, color=False))
    print(report.step_seconds, report.failures or "")


if __name__ == "__main__":
    main()
