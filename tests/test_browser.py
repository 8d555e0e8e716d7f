"""The Dagster UI in a real browser: the asset graph shows every domain's assets and their checks.

Starts `dagster-webserver` on 127.0.0.1 against `workspace.yaml`, drives Debian's headless
Chromium through Selenium and saves a screenshot of the asset lineage graph to
`$LAKEHOUSE_HOME/reports/ui_asset_graph.png` (copied to the project's git-ignored `reports/`
when SAVE_UI_SCREENSHOT=1). Needs `make browser`; fails, rather than skips, without it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from tests.browser import (
    dagster_webserver,
    graph_group_names,
    headless_chromium,
    page_strings,
    page_text,
    require_chromium,
    sidebar_groups,
    wait_for_code_location,
    wait_until,
)
from transforms.config import PROJECT_ROOT

SCREENSHOT = "ui_asset_graph.png"
QUALITY_GROUPS = ("quality", "evaluation")
CATEGORIES = ("ingestion", "dbt", "entity_resolution", "quality")


def _location_name() -> str:
    workspace = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())
    return str(workspace["load_from"][0]["python_module"]["location_name"])


def _category(group: str) -> str | None:
    if group.startswith("bronze"):
        return "ingestion"
    if group.startswith("dbt"):
        return "dbt"
    if group == "entity_resolution":
        return "entity_resolution"
    if group in QUALITY_GROUPS:
        return "quality"
    return None


def _expected() -> tuple[dict[str, set[str]], dict[str, dict[str, set[str]]]]:
    """From the definitions: asset names per group, and check names per asset per category."""
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    groups: dict[str, set[str]] = defaultdict(set)
    group_of: dict[str, str] = {}
    for key in graph.get_all_asset_keys():
        group = graph.get(key).group_name
        groups[group].add(key.path[-1])
        group_of[key.to_user_string()] = group
    checks: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for check in graph.asset_check_keys:
        asset = check.asset_key.to_user_string()
        category = _category(group_of[asset])
        if category:
            checks[category][asset].add(check.name)
    return dict(groups), {c: dict(a) for c, a in checks.items()}


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_asset_graph_and_checks_in_the_ui(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_chromium()
    lakehouse_home = tmp_path / "lakehouse"
    monkeypatch.setenv("LAKEHOUSE_HOME", str(lakehouse_home))
    location = _location_name()
    reports = lakehouse_home / "reports"
    with dagster_webserver(PROJECT_ROOT, tmp_path, lakehouse_home) as server:
        # While the webserver boots, learn from the definitions what the UI must show.
        groups, checks = _expected()
        by_category: dict[str | None, list[str]] = defaultdict(list)
        for group in groups:
            by_category[_category(group)].append(group)
        for category in CATEGORIES:
            assert by_category[category], f"no {category} asset group in {sorted(groups)}"
            assert checks.get(category), f"no asset checks on {category} assets"

        wait_for_code_location(server, location)
        with headless_chromium(tmp_path) as driver:
            try:
                # The global lineage graph draws every asset group; its sidebar lists each
                # group's assets. Both are checked against the definitions.
                driver.get(f"{server.base_url}/asset-groups")
                wait_until(
                    driver,
                    lambda: set(groups) <= graph_group_names(driver),
                    30,
                    f"asset groups {sorted(groups)} on the lineage graph",
                )
                listed = sidebar_groups(driver)
                for category in CATEGORIES:
                    for group in by_category[category]:
                        missing = sorted(groups[group] - listed.get(group, set()))
                        assert not missing, (
                            f"{category} group {group}: assets not listed on the asset graph "
                            f"page: {missing} (listed: {sorted(listed.get(group, set()))})"
                        )
                time.sleep(0.5)  # let the graph settle before the screenshot
                reports.mkdir(parents=True, exist_ok=True)
                assert driver.save_screenshot(str(reports / SCREENSHOT))

                # Checks are visible: one checked asset per domain lists all its checks.
                for category in CATEGORIES:
                    asset, names = sorted(checks[category].items())[0]
                    path = "/".join(quote(part, safe="") for part in asset.split("/"))
                    driver.get(f"{server.base_url}/assets/{path}?view=checks")
                    wait_until(
                        driver,
                        lambda names=names: (
                            f"Checks ({len(names)})" in page_text(driver)
                            and names <= page_strings(driver)
                        ),
                        30,
                        f"checks {sorted(names)} of {asset}",
                    )
            except BaseException:
                failure = tmp_path / "ui_failure.png"
                driver.save_screenshot(str(failure))
                print(f"screenshot of the failing page: {failure}")
                raise

    screenshot = reports / SCREENSHOT
    assert screenshot.stat().st_size > 10_000, "the screenshot is (nearly) empty"
    if os.environ.get("SAVE_UI_SCREENSHOT") == "1":
        (PROJECT_ROOT / "reports").mkdir(exist_ok=True)
        shutil.copyfile(screenshot, PROJECT_ROOT / "reports" / SCREENSHOT)
