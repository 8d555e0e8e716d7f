"""The lakehouse works air-gapped: a whole graph run reaches for no host beyond the loopback."""

from __future__ import annotations

from tests.conftest import LOOKUP_LOG
from transforms.config import Environment


def test_a_whole_graph_run_looks_up_no_host_name(built: Environment) -> None:
    # `built` ran ingest -> dbt -> Splink -> gold -> cuts -> reports with every Python process
    # (this one, dbt's) logging the host names it looked up.
    log = built.home.parent / LOOKUP_LOG
    assert log.exists()
    assert log.read_text(encoding="utf-8").splitlines() == []
