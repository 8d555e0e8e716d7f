"""The normalisation rules run in worker processes give exactly the rules' own answers.

The worker cases run in a fresh `python -c` process, as dbt runs them in the `dbt` command:
`multiprocessing` cannot spawn workers from a pytest-xdist worker, whose `__main__` is made up
(that host keeps the rules in-process, tested last).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import duckdb
import pyarrow as pa
import pytest

from transforms.config import PROJECT_ROOT
from transforms.normalise import udf_workers
from transforms.normalise.duckdb_udfs import register_udfs
from transforms.normalise.udfs import UDFS_BY_NAME

PHONES = ["07700 900123", "+44 20 7946 0958", "020 7946 0958", None, "12", "0044 7700 900456"]
ROWS = 3000  # more than one of DuckDB's 2,048-row batches, each above MIN_BATCH_ROWS

SCRIPT = textwrap.dedent(
    """
    import json, multiprocessing, os, signal, sys
    import duckdb, pyarrow as pa
    from transforms.normalise import udf_workers
    from transforms.normalise.duckdb_udfs import register_udfs
    from transforms.normalise.names import NAME_STYLES
    from transforms.normalise.udfs import UDFS_BY_NAME

    rows = 3000
    def column(values):
        return [values[i % len(values)] for i in range(rows)]
    columns = {
        "name": column(["Mr John SMITH", "SMITH, John Paul", "j. o'neill", None, "Anne-Marie  de la Cruz", "X"]),
        "style": column(list(NAME_STYLES)),
        "dob": column(["1980-01-31", "31/01/1980", "1980-02-30", None, "", "01/31/80"]),
        "fmt": column(["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%y"]),
        "phone": column(["07700 900123", "+44 20 7946 0958", "020 7946 0958", None, "12"]),
        "postcode": column(["sw1a 1aa", "SW1A1AA", "EC1A 1BB", None, "not a postcode", "M1 1AE"]),
        "country": column(["GBR", "GBR", None, "IRL"]),
    }
    def by_rule(name, *args):
        return [UDFS_BY_NAME[name].rule(*row) for row in zip(*(columns[a] for a in args))]
    expected = [list(row) for row in zip(
        by_rule("parse_person_name", "name", "style"), by_rule("parse_date_of_birth", "dob", "fmt"),
        by_rule("to_e164", "phone", "country"), by_rule("normalise_postcode", "postcode", "country"),
    )]
    con = duckdb.connect()
    con.execute("set threads = 2")
    register_udfs(con)
    con.register("frame", pa.table(columns))
    query = ("select parse_person_name(name, style), parse_date_of_birth(dob, fmt),"
             " to_e164(phone, country), normalise_postcode(postcode, country) from frame")
    def run():
        return [list(row) for row in con.execute(query).fetchall()]
    first = run()
    running = udf_workers.workers_running()
    for child in multiprocessing.active_children():
        os.kill(child.pid, signal.SIGKILL)
    after_kill = run()
    print(json.dumps({
        "first_equal": first == expected, "workers": running,
        "after_kill_equal": after_kill == expected,
        "workers_after_kill": udf_workers.workers_running(),
    }, default=str))
    """
)


@pytest.mark.parametrize("start_after", [0, 10**9])
def test_workers_give_the_rules_own_answers_and_survive_a_killed_worker(start_after: int) -> None:
    """Workers started at once (0) answer as the rules do and survive a kill; a run smaller
    than the start threshold never starts them and answers the same."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=PROJECT_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            udf_workers.WORKERS_VARIABLE: "2",
            udf_workers.START_AFTER_VARIABLE: str(start_after),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome == {
        "first_equal": True,
        "workers": outcome["workers"],
        "after_kill_equal": True,  # the query finished in-process
        "workers_after_kill": 0,  # the broken pool was dropped
    }
    if start_after == 0:
        assert outcome["workers"] >= 1  # the first query's batches went to worker processes
    else:
        assert outcome["workers"] == 0  # 12,000 rows: not worth starting workers for


def column(values: list[str | None]) -> list[str | None]:
    return [values[i % len(values)] for i in range(ROWS)]


@pytest.mark.parametrize("workers", ["0", "2"])
def test_in_this_process_the_rules_run_in_process(
    monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """Workers off (0), or a host whose `__main__` a spawned worker cannot import (this pytest
    process, when it is an xdist worker): the same answers, no worker started."""
    monkeypatch.setenv(udf_workers.WORKERS_VARIABLE, workers)
    udf_workers.shutdown()
    con = duckdb.connect()
    register_udfs(con)
    con.register("phones", pa.table({"phone": column(PHONES)}))
    got = con.execute("select to_e164(phone, 'GBR') from phones").fetchall()
    rule = UDFS_BY_NAME["to_e164"].rule
    assert got == [(rule(v, "GBR"),) for v in column(PHONES)]
    if workers == "0" or not udf_workers.main_importable():
        assert udf_workers.workers_running() == 0
    udf_workers.shutdown()
