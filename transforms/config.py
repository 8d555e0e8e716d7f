"""The one environment helper: where everything lives and which engine and targets are used.

No other module hard-codes a path. Everything is derived from `LAKEHOUSE_HOME` (default
`./.lakehouse` in the project root) and `LAKEHOUSE_CATALOGUE` (default `./catalogue`).
`LAKEHOUSE_HOME` may be an object-store URI (`s3://bucket/prefix`): the home is then a `UPath`
(transforms/storage.py), and what can only be local (the DuckDB warehouse, `$DAGSTER_HOME`,
Spark's metastore) goes to `LAKEHOUSE_SCRATCH` (default `~/.cache/ndec-lakehouse/<hash of the
URI>`); with a local home they stay under the home, as they always did. The engine
(`duckdb`, the embedded default, or `spark`) and the Spark settings come from the config file
(`LAKEHOUSE_CONFIG`, default `./lakehouse.yml`); `LAKEHOUSE_ENGINE` and `LAKEHOUSE_SPARK_MASTER`
override it. So do DuckDB's `memory_limit` and `temp_directory` (`LAKEHOUSE_MEMORY_LIMIT`,
`LAKEHOUSE_TEMP_DIRECTORY`), which every DuckDB connection honours (transforms/duckdb_settings.py)
so a large run spills to disk instead of being killed. Analyst SQL (`lakehouse sql`) has its own,
tighter bounds in the file's `analyst_sql` section: a statement timeout, a memory limit and spill
allowance, and a row limit (`AnalystSqlSettings`).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from transforms.storage import StoragePath, is_local, is_uri, storage_path, write_text_atomic

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("bronze", "silver", "gold", "ops")
ENGINES = ("duckdb", "spark")
Engine = Literal["duckdb", "spark"]
DBT_TARGET_OF_ENGINE = {"duckdb": "local", "spark": "spark"}
SETTINGS = ("engine", "spark", "sensor_seconds", "memory_limit", "temp_directory", "analyst_sql")
# DuckDB's size syntax (1000^i and 1024^i units), or a share of the machine's memory.
_MEMORY_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)", re.IGNORECASE)
_MEMORY_SHARE = re.compile(r"(\d+(?:\.\d+)?)\s*%")


class ConfigError(ValueError):
    """The config file or an override names something that does not exist."""


@dataclass(frozen=True)
class SparkSettings:
    """Where Spark runs and how: `master` is `local[N]` here, `spark://`, `yarn` or `k8s://` on a cluster."""

    master: str = "local[2]"
    conf: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class AnalystSqlSettings:
    """What one analyst query (`lakehouse sql`) may take; past any of them it is cancelled.

    The defaults suit an interactive query over the demo and a medium lakehouse: half a minute
    answers any query over tables of a few million rows; 2GB (spilling up to 4GB) leaves the
    machine to the pipelines; 100,000 rows is more than anyone reads and small enough to print."""

    statement_timeout_s: float = 30.0
    memory_limit: str = "2GB"
    max_temp_directory_size: str = "4GB"
    row_limit: int = 100_000


ANALYST_SQL_KEYS = tuple(AnalystSqlSettings.__dataclass_fields__)


@dataclass(frozen=True)
class Environment:
    """Resolved storage roots and targets for one process."""

    home: StoragePath
    catalogue_dir: Path
    dbt_target: str = "local"
    engine: Engine = "duckdb"
    spark: SparkSettings = field(default_factory=SparkSettings)
    dbt_project_dir: Path = PROJECT_ROOT / "dbt_project"
    expectations_dir: Path = PROJECT_ROOT / "expectations"
    scratch_dir: Path | None = None  # LAKEHOUSE_SCRATCH; used only when the home is remote
    sensor_seconds: int = 30  # how often the daemon looks for deliveries and evaluates automation
    memory_limit: str | None = None  # DuckDB size ("4GB"); None keeps its default, 80% of RAM
    temp_directory_setting: Path | None = None  # LAKEHOUSE_TEMP_DIRECTORY or the file's
    analyst_sql: AnalystSqlSettings = field(default_factory=AnalystSqlSettings)

    @property
    def temp_directory(self) -> Path:
        """Where DuckDB spills what does not fit in `memory_limit`: local, like the warehouse."""
        return self.temp_directory_setting or self.scratch / "duckdb_tmp"

    @property
    def scratch(self) -> Path:
        """Local folder for what cannot live on an object store: the home itself when local."""
        if is_local(self.home):
            return self.home  # type: ignore[return-value]
        return self.scratch_dir or default_scratch(str(self.home))

    @property
    def landing(self) -> StoragePath:
        return self.home / "landing"

    @property
    def delta(self) -> StoragePath:
        return self.home / "delta"

    @property
    def truth(self) -> StoragePath:
        return self.home / "truth"

    @property
    def quarantine(self) -> StoragePath:
        return self.home / "quarantine"

    @property
    def cuts(self) -> StoragePath:
        return self.home / "cuts"

    @property
    def reports(self) -> StoragePath:
        return self.home / "reports"

    @property
    def warehouse(self) -> Path:
        return self.scratch / "warehouse.duckdb"

    @property
    def models(self) -> StoragePath:
        return self.home / "models"

    @property
    def dagster_home(self) -> Path:
        return self.scratch / "dagster"

    @property
    def spark_dir(self) -> Path:
        """Spark's metastore (Derby), warehouse and checkpoints for this lakehouse."""
        return self.scratch / "spark"

    def table_path(self, table: str) -> StoragePath:
        """Path of a Delta table named `<layer>.<table>`."""
        layer, name = split_table_name(table)
        return self.delta / layer / name


def default_scratch(home: str) -> Path:
    """A stable local folder per object-store home, so the warehouse survives between runs."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "ndec-lakehouse" / hashlib.sha256(home.encode()).hexdigest()[:16]


def home_path(location: str | os.PathLike[str]) -> StoragePath:
    """The lakehouse home a setting names: a resolved local folder, or an object-store `UPath`."""
    return storage_path(location) if is_uri(location) else Path(location).resolve()


def split_table_name(table: str) -> tuple[str, str]:
    """Split `<layer>.<table>`, refusing unknown layers with a clear message."""
    layer, sep, name = table.partition(".")
    if not sep or layer not in LAYERS or not name:
        raise ValueError(f"table {table!r} must be named <layer>.<table> with layer in {LAYERS}")
    return layer, name


def load_config_file(path: Path) -> dict[str, Any]:
    """The deployment config file (engine, Spark, DuckDB memory); empty when absent.

    `memory_limit` is checked here, so a typo names the file rather than failing in DuckDB."""
    if not path.is_file():
        return {}
    document = yaml.safe_load(path.read_text()) or {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    unknown = sorted(set(document) - set(SETTINGS))
    if unknown:
        raise ConfigError(f"{path}: unknown settings {unknown}; known: {', '.join(SETTINGS)}")
    if document.get("memory_limit") is not None:
        document["memory_limit"] = parse_memory_limit(document["memory_limit"], str(path))
    folder = document.get("temp_directory")
    if folder is not None:
        if not isinstance(folder, str) or not folder.strip():
            raise ConfigError(f"{path}: temp_directory must be a folder, not {folder!r}")
        document["temp_directory"] = (path.parent / Path(folder).expanduser()).resolve()
    document["analyst_sql"] = analyst_sql_settings(document.get("analyst_sql"), str(path))
    return document


def parse_memory_limit(
    value: object, source: str, key: str = "memory_limit", *, share: bool = True
) -> str:
    """A DuckDB memory limit ("4GB", "512MiB", "50%"), refused with the place it was set.

    Without `share`, only a size (DuckDB's `max_temp_directory_size` takes no percentage)."""
    text = str(value).strip()
    size = _MEMORY_SIZE.fullmatch(text)
    part = _MEMORY_SHARE.fullmatch(text) if share else None
    amount = float((size or part).group(1)) if size or part else 0.0
    if amount <= 0 or (part and amount > 100):
        raise ConfigError(
            f"{source}: {key} {value!r} is not a size such as 4GB or 512MiB (a number "
            "followed by B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)"
            + (" or a share such as 50%" if share else "")
        )
    return text


def analyst_sql_settings(section: object, source: str) -> AnalystSqlSettings:
    """The file's `analyst_sql` section; a missing key keeps its default, a bad one is named."""
    if section is None:
        return AnalystSqlSettings()
    where = f"{source}: analyst_sql"
    if not isinstance(section, dict):
        raise ConfigError(f"{where} must be a mapping of {', '.join(ANALYST_SQL_KEYS)}")
    unknown = sorted(set(section) - set(ANALYST_SQL_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}; known: {', '.join(ANALYST_SQL_KEYS)}")
    default = AnalystSqlSettings()
    timeout = section.get("statement_timeout_s", default.statement_timeout_s)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ConfigError(
            f"{where}.statement_timeout_s must be a number of seconds > 0, not {timeout!r}"
        )
    rows = section.get("row_limit", default.row_limit)
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ConfigError(f"{where}.row_limit must be a whole number of rows >= 1, not {rows!r}")
    memory = section.get("memory_limit", default.memory_limit)
    spill = section.get("max_temp_directory_size", default.max_temp_directory_size)
    return AnalystSqlSettings(
        statement_timeout_s=float(timeout),
        memory_limit=parse_memory_limit(memory, source, "analyst_sql.memory_limit"),
        max_temp_directory_size=parse_memory_limit(
            spill, source, "analyst_sql.max_temp_directory_size", share=False
        ),
        row_limit=rows,
    )


def resolve_engine(configured: object, source: str) -> Engine:
    """Refuse an unknown engine, naming where it was set."""
    engine = str(configured or "duckdb").strip().lower()
    if engine not in ENGINES:
        raise ConfigError(f"{source}: engine {configured!r} is not one of {ENGINES}")
    return engine  # type: ignore[return-value]


def spark_settings(document: dict[str, Any], source: Path) -> SparkSettings:
    """Spark master and options from the config file, the master overridable per process."""
    spark = document.get("spark") or {}
    if not isinstance(spark, dict) or not set(spark) <= {"master", "conf"}:
        raise ConfigError(f"{source}: spark takes `master` and `conf` only")
    master = os.environ.get("LAKEHOUSE_SPARK_MASTER") or spark.get("master") or "local[2]"
    conf = {str(k): str(v) for k, v in (spark.get("conf") or {}).items()}
    return SparkSettings(master=str(master), conf=conf)


def get_environment() -> Environment:
    """Read the environment once; every caller goes through here."""
    home = home_path(os.environ.get("LAKEHOUSE_HOME", PROJECT_ROOT / ".lakehouse"))
    scratch = os.environ.get("LAKEHOUSE_SCRATCH")
    catalogue = Path(os.environ.get("LAKEHOUSE_CATALOGUE", PROJECT_ROOT / "catalogue")).resolve()
    config_path = Path(os.environ.get("LAKEHOUSE_CONFIG", PROJECT_ROOT / "lakehouse.yml"))
    document = load_config_file(config_path)
    if os.environ.get("LAKEHOUSE_ENGINE"):
        engine = resolve_engine(os.environ["LAKEHOUSE_ENGINE"], "LAKEHOUSE_ENGINE")
    else:
        engine = resolve_engine(document.get("engine"), str(config_path))
    return Environment(
        home=home,
        catalogue_dir=catalogue,
        dbt_target=os.environ.get("LAKEHOUSE_DBT_TARGET") or DBT_TARGET_OF_ENGINE[engine],
        engine=engine,
        spark=spark_settings(document, config_path),
        dbt_project_dir=Path(
            os.environ.get("LAKEHOUSE_DBT_PROJECT", PROJECT_ROOT / "dbt_project")
        ).resolve(),
        scratch_dir=Path(scratch).resolve() if scratch else None,
        sensor_seconds=sensor_seconds(document, config_path),
        memory_limit=memory_limit(document),
        temp_directory_setting=temp_directory(document),
        analyst_sql=document.get("analyst_sql") or AnalystSqlSettings(),
    )


def memory_limit(document: dict[str, Any]) -> str | None:
    """`LAKEHOUSE_MEMORY_LIMIT`, else the file's (already checked), else None (DuckDB's default)."""
    if os.environ.get("LAKEHOUSE_MEMORY_LIMIT"):
        return parse_memory_limit(os.environ["LAKEHOUSE_MEMORY_LIMIT"], "LAKEHOUSE_MEMORY_LIMIT")
    return document.get("memory_limit")


def temp_directory(document: dict[str, Any]) -> Path | None:
    """`LAKEHOUSE_TEMP_DIRECTORY`, else the file's (relative to the file), else None (scratch)."""
    if os.environ.get("LAKEHOUSE_TEMP_DIRECTORY"):
        return Path(os.environ["LAKEHOUSE_TEMP_DIRECTORY"]).expanduser().resolve()
    return document.get("temp_directory")


def sensor_seconds(document: dict[str, Any], source: Path) -> int:
    """The daemon's sensor interval: `LAKEHOUSE_SENSOR_SECONDS`, else the file's, else 30."""
    raw = os.environ.get("LAKEHOUSE_SENSOR_SECONDS") or document.get("sensor_seconds") or 30
    try:
        seconds = int(raw)
    except (TypeError, ValueError):
        seconds = 0
    if seconds < 1:
        raise ConfigError(
            f"{source}: sensor_seconds must be a whole number of seconds >= 1, not {raw!r}"
        )
    return seconds


def export_environment(env: Environment) -> None:
    """Make child processes (dbt and its plugin) resolve the same environment as this one."""
    os.environ["LAKEHOUSE_HOME"] = str(env.home)
    if not is_local(env.home):
        env.scratch.mkdir(parents=True, exist_ok=True)  # dbt-duckdb makes the file, not the folder
        os.environ["LAKEHOUSE_SCRATCH"] = str(env.scratch)
    os.environ["LAKEHOUSE_WAREHOUSE"] = str(env.warehouse)  # dbt-duckdb's path (profiles.yml)
    os.environ["LAKEHOUSE_CATALOGUE"] = str(env.catalogue_dir)
    os.environ["LAKEHOUSE_DBT_PROJECT"] = str(env.dbt_project_dir)
    os.environ["LAKEHOUSE_DBT_TARGET"] = env.dbt_target
    os.environ["LAKEHOUSE_ENGINE"] = env.engine
    # dbt-duckdb's spill folder (profiles.yml `config_options`); DuckDB makes one level, not parents
    env.temp_directory.mkdir(parents=True, exist_ok=True)
    os.environ["LAKEHOUSE_TEMP_DIRECTORY"] = str(env.temp_directory)
    if env.memory_limit:
        os.environ["LAKEHOUSE_MEMORY_LIMIT"] = env.memory_limit
    else:
        os.environ.pop("LAKEHOUSE_MEMORY_LIMIT", None)  # no earlier limit may leak into dbt


def disable_telemetry() -> None:
    """Turn off dbt, Great Expectations and Dagster telemetry before any of them is imported."""
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")


DAGSTER_SETTINGS = PROJECT_ROOT / "orchestration" / "dagster.yaml"


def prepare_dagster_home(env: Environment) -> Path:
    """Create `$DAGSTER_HOME` in the lakehouse's local folder with the shipped settings; point
    Dagster at it (telemetry off, runs queued, the warehouse pool limited to one step)."""
    home = env.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    shipped = DAGSTER_SETTINGS.read_text()
    if not settings.exists() or settings.read_text() != shipped:
        write_text_atomic(settings, shipped)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
