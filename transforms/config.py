"""The one environment helper: where everything lives and which targets are used.

No other module hard-codes a path. Everything is derived from `LAKEHOUSE_HOME` (default
`./.lakehouse` in the project root) and `LAKEHOUSE_CATALOGUE` (default `./catalogue`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("bronze", "silver", "gold", "ops")


@dataclass(frozen=True)
class Environment:
    """Resolved storage roots and targets for one process."""

    home: Path
    catalogue_dir: Path
    dbt_target: str = "local"
    dbt_project_dir: Path = PROJECT_ROOT / "dbt_project"
    expectations_dir: Path = PROJECT_ROOT / "expectations"

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def delta(self) -> Path:
        return self.home / "delta"

    @property
    def truth(self) -> Path:
        return self.home / "truth"

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @property
    def cuts(self) -> Path:
        return self.home / "cuts"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def models(self) -> Path:
        return self.home / "models"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    def table_path(self, table: str) -> Path:
        """Path of a Delta table named `<layer>.<table>`."""
        layer, name = split_table_name(table)
        return self.delta / layer / name


def split_table_name(table: str) -> tuple[str, str]:
    """Split `<layer>.<table>`, refusing unknown layers with a clear message."""
    layer, sep, name = table.partition(".")
    if not sep or layer not in LAYERS or not name:
        raise ValueError(f"table {table!r} must be named <layer>.<table> with layer in {LAYERS}")
    return layer, name


def get_environment() -> Environment:
    """Read the environment once; every caller goes through here."""
    home = Path(os.environ.get("LAKEHOUSE_HOME", PROJECT_ROOT / ".lakehouse")).resolve()
    catalogue = Path(os.environ.get("LAKEHOUSE_CATALOGUE", PROJECT_ROOT / "catalogue")).resolve()
    return Environment(
        home=home,
        catalogue_dir=catalogue,
        dbt_target=os.environ.get("LAKEHOUSE_DBT_TARGET", "local"),
        dbt_project_dir=Path(
            os.environ.get("LAKEHOUSE_DBT_PROJECT", PROJECT_ROOT / "dbt_project")
        ).resolve(),
    )


def export_environment(env: Environment) -> None:
    """Make child processes (dbt and its plugin) resolve the same environment as this one."""
    os.environ["LAKEHOUSE_HOME"] = str(env.home)
    os.environ["LAKEHOUSE_CATALOGUE"] = str(env.catalogue_dir)
    os.environ["LAKEHOUSE_DBT_PROJECT"] = str(env.dbt_project_dir)
    os.environ["LAKEHOUSE_DBT_TARGET"] = env.dbt_target


def disable_telemetry() -> None:
    """Turn off dbt, Great Expectations and Dagster telemetry before any of them is imported."""
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def prepare_dagster_home(env: Environment) -> Path:
    """Create `$DAGSTER_HOME` under the lakehouse with telemetry disabled, and point Dagster at it."""
    home = env.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        settings.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    return home
