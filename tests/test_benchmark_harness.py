"""The benchmark harness runs end to end at a tiny size (a smoke test: nothing here is timed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.harness import (
    FEED_DELIVERY,
    GOALS,
    SNAPSHOT_DELIVERY,
    STAGES,
    main,
    result_path,
    stage_seconds,
)


def test_steps_are_grouped_into_stages() -> None:
    stages = stage_seconds(
        {
            "ingest_electoral_roll": 1.0,
            "ingest_travel_manifests": 2.0,
            "dbt_silver": 3.0,
            "models__entity_resolution": 4.0,
            "resolve_entities": 5.0,
            "cuts__rocu_north": 0.5,
        }
    )
    assert stages["ingest"] == 3.0
    assert stages["dbt normalisation"] == 3.0
    assert stages["er training"] == 4.0
    assert stages["other steps"] == 0.5
    assert set(stages) == {*STAGES, "other steps"}


@pytest.mark.timeout(900)
def test_the_harness_runs_every_stage_and_writes_its_result(tmp_path: Path) -> None:
    path = main(["--people", "200", "--out-dir", str(tmp_path)])
    result = json.loads(path.read_text())
    assert result["people"] == 200 and result["records"] > 0
    for stage in (*STAGES, "ingest (bare polars)", "end to end (lakehouse run)"):
        assert result["seconds"][stage] > 0, stage
    assert result["seconds"][FEED_DELIVERY] > 0 and result["seconds"][SNAPSHOT_DELIVERY] > 0
    assert set(result["stage_seconds"]) == {"full", "feed delivery", "incremental"}
    assert set(result["goals"]) == set(GOALS)
    assert result["peak_rss_mb"]["end to end"] > 100  # the process tree, dbt included
    assert result["machine"]["cores"] >= 1
    rows = result["incremental_rows"]
    assert rows and all(n != 0 for n in rows.values())


def test_a_second_result_of_the_same_day_does_not_overwrite_the_first(tmp_path: Path) -> None:
    result = {"date": "2026-12-03", "people": 600, "commit": "abc1234"}
    first = result_path(tmp_path, result)
    assert first.name == "2026-12-03-600.json"
    first.write_text("{}")
    assert result_path(tmp_path, result).name == "2026-12-03-600-abc1234.json"
