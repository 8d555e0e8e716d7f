"""Helpers for the UI test: a Dagster webserver on 127.0.0.1 and Debian's headless Chromium.

Everything stays on the loopback interface: the webserver binds 127.0.0.1, Chromium is driven
through Debian's chromedriver (Selenium Manager is never asked to download anything) and runs
with background networking, component updates and sync switched off.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LOOPBACK_HOSTS

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
    # Resolve no host name but the loopback's: the browser's own background calls (update
    # checks, search-engine prefetch) must never wait on DNS or reach the network.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
    "--window-size=1600,1000",
)
HOST = "127.0.0.1"
# A direct opener: loopback requests never go through a proxy from the environment.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def require_chromium() -> None:
    """Fail (not skip: CI installs the browser) when Debian's Chromium or chromedriver is missing."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail(
            f"headless browser missing ({', '.join(missing)}): run `make browser` "
            "(scripts/install-browser.sh installs Debian's chromium and chromium-driver)",
            pytrace=False,
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _get(url: str, timeout: float = 5.0) -> bytes:
    assert url.startswith(f"http://{HOST}:"), url  # loopback only
    with _LOOPBACK.open(url, timeout=timeout) as response:
        return response.read()


def _graphql(base_url: str, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base_url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert request.full_url.startswith(f"http://{HOST}:")  # loopback only
    with _LOOPBACK.open(request, timeout=30) as response:
        return json.loads(response.read())["data"]


LOCATION_STATUS = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""


@dataclass(frozen=True)
class Webserver:
    base_url: str
    log: Path

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def dagster_webserver(
    project_root: Path, workdir: Path, lakehouse_home: Path
) -> Iterator[Webserver]:
    """Starts `dagster-webserver -w workspace.yaml` on a free loopback port; kills its process group."""
    dagster_home = workdir / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\nnux:\n  enabled: false\n"
    )
    lakehouse_home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / "dagster-webserver.log"
    executable = Path(sys.executable).parent / "dagster-webserver"  # the test's own venv
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "LAKEHOUSE_HOME": str(lakehouse_home),
        "DAGSTER_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
    }
    argv = [str(executable), "-w", "workspace.yaml", "-h", HOST, "-p", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=project_root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield Webserver(base_url=f"http://{HOST}:{port}", log=log)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def wait_for_code_location(server: Webserver, location: str, timeout: float = 120.0) -> None:
    """Waits until the webserver answers and `location` has loaded; fails on a load error."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            _get(f"{server.base_url}/server_info")
            workspace = _graphql(server.base_url, LOCATION_STATUS)["workspaceOrError"]
            entries = {e["name"]: e for e in workspace.get("locationEntries", [])}
            entry = entries.get(location)
            last = entry
            if entry and entry["loadStatus"] == "LOADED":
                loaded = entry["locationOrLoadError"] or {}
                if loaded.get("__typename") == "PythonError":
                    pytest.fail(
                        f"code location {location!r} failed to load in the webserver:\n"
                        f"{loaded.get('message')}",
                        pytrace=False,
                    )
                if loaded.get("__typename") == "RepositoryLocation":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as error:
            last = error
        time.sleep(0.5)
    pytest.fail(
        f"dagster-webserver did not serve code location {location!r} within {timeout:.0f} s "
        f"(last status: {last!r}); log tail:\n{server.tail()}",
        pytrace=False,
    )


@contextmanager
def headless_chromium(workdir: Path) -> Iterator[Any]:
    """A Selenium driver for Debian's Chromium with a fresh profile under `workdir`."""
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = workdir / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    service = Service(
        executable_path=str(CHROMEDRIVER), log_output=str(workdir / "chromedriver.log")
    )
    # Selenium Manager must not reach the network, and Selenium's calls to chromedriver on the
    # loopback must not go through a proxy from the environment.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")
        for name in ("NO_PROXY", "no_proxy"):
            patch.setenv(name, LOOPBACK_HOSTS)
        driver = webdriver.Chrome(service=service, options=options)
        try:
            yield driver
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)


def page_text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    try:
        return str(driver.find_element(By.TAG_NAME, "body").text)
    except Exception:  # the page is re-rendering; the caller polls again
        return ""


def wait_until(driver: Any, condition: Callable[[], bool], timeout: float, what: str) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(driver, timeout, poll_frequency=0.25).until(lambda _: condition())
    except TimeoutException:
        pytest.fail(
            f"timed out after {timeout:.0f} s waiting for {what} on {driver.current_url}\n"
            f"page text:\n{page_text(driver)[:3000]}",
            pytrace=False,
        )


def page_strings(driver: Any) -> set[str]:
    """Text lines of the page plus every `title`/`data-tooltip` (full names of truncated labels)."""
    return set(
        driver.execute_script(
            """
            const out = (document.body.innerText || '').split('\\n').map(s => s.trim());
            for (const el of document.querySelectorAll('[title], [data-tooltip]')) {
                out.push(el.getAttribute('title') || '', el.getAttribute('data-tooltip') || '');
            }
            return out.filter(Boolean);
            """
        )
    )


def graph_group_names(driver: Any) -> set[str]:
    """Names of the (collapsed) asset-group nodes drawn on the lineage graph."""
    return set(
        driver.execute_script(
            """
            return Array.from(document.querySelectorAll('foreignObject.group [data-tooltip]'))
                .map(el => el.getAttribute('data-tooltip'));
            """
        )
    )


_SIDEBAR = """
const item = document.querySelector("[class*='AssetSidebarNode_itemContainer']");
const box = item && item.closest("[class*='VirtualizedTable_container']");
"""
_SIDEBAR_ROWS = (
    _SIDEBAR
    + """
if (!box) return null;
const rows = Array.from(box.querySelectorAll('[data-index]')).map(row => {
    const caret = row.querySelector("button [aria-label='arrow_drop_down']");
    const label = row.querySelector("[class*='MiddleTruncate_container'][title]");
    return [Number(row.dataset.index), !!row.querySelector("[aria-label='asset_group']"),
            label ? label.getAttribute('title') : null,
            !!caret && (caret.style.transform || '').includes('-90deg')];
});
return {rows: rows, top: box.scrollTop, height: box.clientHeight, total: box.scrollHeight};
"""
)
_SIDEBAR_EXPAND_ONE = (
    _SIDEBAR
    + """
if (!box) return false;
const carets = Array.from(box.querySelectorAll("[data-index] button [aria-label='arrow_drop_down']"))
    .filter(c => (c.style.transform || '').includes('-90deg')
                 && c.closest('[data-index]').querySelector("[aria-label='asset_group']"));
if (!carets.length) return false;
carets[carets.length - 1].closest('button').click();
return true;
"""
)
_SIDEBAR_SCROLL = _SIDEBAR + "if (box) box.scrollTop = arguments[0];"


def sidebar_groups(driver: Any) -> dict[str, set[str]]:
    """Expands every asset group in the lineage page's sidebar and reads group -> asset names.

    The sidebar is a virtualised list (only rows near the viewport exist), so it is scrolled
    through; each row's full name is its `title` (labels themselves may be middle-truncated).
    """
    state = driver.execute_script(_SIDEBAR_ROWS)
    if state is None:
        pytest.fail(f"no asset sidebar on {driver.current_url}", pytrace=False)
    top = 0
    for _ in range(500):  # expand collapsed groups, scrolling down as they run out
        if driver.execute_script(_SIDEBAR_EXPAND_ONE):
            time.sleep(0.1)
            continue
        state = driver.execute_script(_SIDEBAR_ROWS)
        if top + state["height"] >= state["total"]:
            break
        top += max(32, state["height"] // 2)
        driver.execute_script(_SIDEBAR_SCROLL, top)
        time.sleep(0.15)
    rows: dict[int, tuple[bool, str | None]] = {}
    top = 0
    for _ in range(500):  # read every row, top to bottom
        driver.execute_script(_SIDEBAR_SCROLL, top)
        time.sleep(0.15)
        state = driver.execute_script(_SIDEBAR_ROWS)
        rows.update({index: (is_group, title) for index, is_group, title, _ in state["rows"]})
        if state["top"] + state["height"] >= state["total"]:
            break
        top = state["top"] + max(32, state["height"] // 2)
    driver.execute_script(_SIDEBAR_SCROLL, 0)
    groups: dict[str, set[str]] = {}
    current: str | None = None
    for index in sorted(rows):
        is_group, title = rows[index]
        if is_group and title:
            current = title
            groups.setdefault(current, set())
        elif current is not None and title:
            groups[current].add(title)
    return groups
