"""Profile one asset selection of an existing lakehouse with pyinstrument (how the hot spots in
the README were found).

    LAKEHOUSE_HOME=/tmp/b1m .venv/bin/python -m benchmarks.profile_step \\
        --select "key:gold/* or key:ops/entity_id_changes" --full-rebuild --out resolve.txt

Great Expectations is imported before profiling, as an earlier step of a whole run would have.
`--memory` samples the process's resident memory instead and prints, per project function on
the stack, the highest RSS seen while it ran (where the peak of a stage comes from).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from pyinstrument import Profiler

from orchestration.runner import definitions_for, run_assets
from transforms.config import get_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--select", required=True, help="Dagster asset selection")
    parser.add_argument("--full-rebuild", action="store_true", help="resolve_entities from scratch")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--memory", action="store_true", help="peak RSS by function instead")
    args = parser.parse_args()
    env = get_environment()
    defs = definitions_for(env)
    import great_expectations  # noqa: F401 - paid once per process in a whole run

    config = {"ops": {"resolve_entities": {"config": {"full_rebuild": True}}}}

    def run() -> object:
        return run_assets(
            env, args.select, defs=defs, run_config=config if args.full_rebuild else None
        )

    if args.memory:
        report, text = _memory_by_function(run)
    else:
        profiler = Profiler(interval=0.01)
        profiler.start()
        report = run()
        profiler.stop()
        text = profiler.output_text(unicode=False, color=False)
    args.out.write_text(text)
    print(report.step_seconds, report.failures or "")  # type: ignore[attr-defined]


def _memory_by_function(run: Callable[[], object]) -> tuple[object, str]:
    """Run `run`, sampling RSS every 50 ms with the project functions on the running stack."""
    process, main = psutil.Process(), threading.get_ident()
    peaks: dict[str, float] = {}
    growth: list[str] = []  # each new high (by 256 MB or more) with the stack that reached it
    done = threading.Event()
    high = process.memory_info().rss / 2**20

    def sample() -> None:
        nonlocal high
        while not done.wait(0.05):
            rss = process.memory_info().rss / 2**20
            frame = sys._current_frames().get(main)
            stack: list[str] = []
            while frame is not None:
                code = frame.f_code
                if "/transforms/" in code.co_filename:
                    name = f"{Path(code.co_filename).stem}.{code.co_name}"
                    peaks[name] = max(peaks.get(name, 0.0), rss)
                    stack.append(f"{name}:{frame.f_lineno}")
                frame = frame.f_back
            if rss >= high + 256:
                high = rss
                elapsed = time.perf_counter() - started
                growth.append(f"{elapsed:7.1f} s {rss:9.0f} MB  {' < '.join(stack[:4])}")

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    sampler.start()
    result = run()
    done.set()
    sampler.join()
    lines = [f"{mb:9.0f} MB  {name}" for name, mb in sorted(peaks.items(), key=lambda kv: -kv[1])]
    header = f"peak RSS by function ({time.perf_counter() - started:.0f} s)"
    return result, "\n".join([header, *lines, "", "new highs (innermost first)", *growth]) + "\n"


if __name__ == "__main__":
    main()
