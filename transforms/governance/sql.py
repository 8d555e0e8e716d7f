"""Read-only SQL over `bronze.*`, `silver.*` and `gold.*`, within the user's clearance, audited.

Every query is checked with DuckDB's own parser before anything runs:

- exactly one statement, of type SELECT (WITH ... SELECT, VALUES, DESCRIBE/SUMMARIZE of a query
  count as SELECT; ATTACH, COPY, INSTALL, LOAD, PRAGMA, SET, CREATE, DROP ... do not);
- no table functions at all (read_csv, read_parquet, glob, query, ...) and no SHOW;
- no function that reads or changes the server's settings, environment, catalogue or files
  (current_setting, getenv, version, pg_*, duckdb_*, ...: `EXPOSING_FUNCTIONS`);
- every table is named `<layer>.<table>` with layer bronze, silver or gold and is a Delta table
  under `delta/<layer>/<table>` (no `ops`, no `information_schema`, no other catalogue);
- no table is classified above the user's clearance.

It then runs on a private in-memory DuckDB connection holding only the referenced tables, as views
over Delta snapshots, with external access disabled and the configuration locked, so even a query
that slipped past the checks can neither read files nor switch anything back on. The lock also
holds the analyst limits of `lakehouse.yml` (`analyst_sql`: memory limit and spill allowance).
The query runs under a statement timeout (a timer interrupts it) and returns at most `row_limit`
rows; past any limit it is cancelled (`QueryCancelled`, one line naming the limit), never
truncated.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import polars as pl
import pyarrow.compute as pc
from deltalake import DeltaTable

from transforms.catalogue import Dataset, load_catalogue
from transforms.config import AnalystSqlSettings, Environment
from transforms.contract import CLASSIFICATION_RANK, HIGHEST, LOWEST, highest
from transforms.duckdb_settings import connect as connect_duckdb
from transforms.governance.audit import audit
from transforms.governance.tasks import TaskRefused, require_open_task
from transforms.storage import StoragePath
from transforms.users import UnknownUser, User, get_user

QUERY_LAYERS = ("bronze", "silver", "gold")
CLASSIFICATION_COLUMN = "classification"
LOCKDOWN = (
    # No file system, network, extension or Python-variable access from SQL ...
    "SET enable_external_access = false",
    "SET python_enable_replacements = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET allow_community_extensions = false",
    # Nothing names the server's home folder, not even an error message.
    "SET home_directory = ''",
    # ... and no statement may change any setting back (must come last).
    "SET lock_configuration = true",
)
# Functions that read or change the server's settings, environment, catalogue or files: refused
# wherever they appear in a statement, by name or by prefix (table functions are refused anyway).
EXPOSING_FUNCTIONS = frozenset(
    {
        "current_setting",
        "getenv",
        "getvariable",
        "which_secret",
        "current_database",
        "current_catalog",
        "current_schema",
        "current_schemas",
        "in_search_path",
        "database_list",
        "database_size",
        "storage_info",
        "table_info",
        "metadata_info",
        "extension_versions",
        "functions",
        "collations",
        "platform",
        "version",
        "user_agent",
        "get_block_size",
        "current_connection_id",
        "current_transaction_id",
        "current_query_id",
        "txid_current",
        "inet_client_addr",
        "inet_client_port",
        "inet_server_addr",
        "inet_server_port",
        "write_log",
        "add_parquet_key",
        "force_checkpoint",
        "copy_database",
        "import_database",
        "json_execute_serialized_sql",
        "verify_parallelism",
        "glob",
        "sniff_csv",
    }
)
EXPOSING_PREFIXES = (
    "duckdb_",
    "pragma_",
    "pg_",
    "read_",
    "parquet_",
    "show",
    "enable_",
    "disable_",
)
_VERSION = re.compile(r"^\d+$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class QueryRefused(ValueError):
    """The query is not allowed; nothing was run. `tables` lists what it referenced, if known."""

    def __init__(self, reason: str, tables: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tables = list(tables or [])


class QueryCancelled(QueryRefused):
    """The query ran past an analyst limit (`analyst_sql`: timeout, memory, rows) and was stopped.

    A refusal for the audit (outcome `refused`, the reason naming the limit): no row was returned."""


class QueryFailed(RuntimeError):
    """The query passed every check but DuckDB could not run it (bad column, type error ...)."""

    def __init__(self, reason: str, tables: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tables = list(tables or [])


@dataclass(frozen=True)
class QueryResult:
    frame: pl.DataFrame
    tables: list[str]
    seconds: float


# --- what may be queried ------------------------------------------------------------------------


def available_tables(env: Environment) -> dict[str, StoragePath]:
    """Every Delta table under `delta/<layer>/<name>` for bronze, silver and gold, by `<layer>.<name>`."""
    tables = {}
    for layer in QUERY_LAYERS:
        folder = env.delta / layer
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith(("_", ".")) or not path.is_dir():
                continue
            if DeltaTable.is_deltatable(str(path)):
                tables[f"{layer}.{path.name}"] = path
    return tables


def table_classification(table: str, snapshot: DeltaTable, catalogue: dict[str, Dataset]) -> str:
    """Bronze: the catalogue entry's. Silver and gold: the highest value in the `classification`
    column of this snapshot; without such a column, the highest in the catalogue (safe default)."""
    default = highest([d.classification for d in catalogue.values()] or [HIGHEST])
    layer, name = table.split(".", 1)
    if layer == "bronze":
        return catalogue[name].classification if name in catalogue else default
    dataset = snapshot.to_pyarrow_dataset()
    if CLASSIFICATION_COLUMN not in dataset.schema.names:
        return default
    values = pc.unique(dataset.to_table(columns=[CLASSIFICATION_COLUMN]).column(0)).to_pylist()
    present = [
        v if v in CLASSIFICATION_RANK else HIGHEST  # an unknown label is treated as the top
        for v in values
        if v is not None
    ]
    return highest(present) if present else LOWEST


# --- statement checks (before anything runs) ----------------------------------------------------


def check_statement(sql: str, env: Environment | None = None) -> tuple[duckdb.Statement, list[str]]:
    """The single SELECT statement of `sql` and the `<layer>.<table>` names it reads.

    Raises QueryRefused for anything else, naming what was refused. With `env`, the parser's
    connection has its memory limit (without, DuckDB's defaults: only a parse runs)."""
    if not sql.strip():
        raise QueryRefused("the query is empty")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(f"not valid SQL: {_first_line(exc)}") from exc
    if len(statements) != 1:
        raise QueryRefused(f"exactly one statement is allowed, the query has {len(statements)}")
    statement = statements[0]
    kind = statement.type.name
    if kind != "SELECT":
        verb = (statement.query.split() or [kind])[0].upper()
        shown = kind if verb == kind else f"{kind} ({verb} ...)"
        raise QueryRefused(f"only read-only SELECT queries are allowed, not {shown}")
    tree = _serialise(statement.query, env)
    refs = _References()
    refs.collect(tree)
    tables = refs.check()
    return statement, tables


def _serialise(sql: str, env: Environment | None) -> dict[str, Any]:
    """DuckDB's own parse tree of a SELECT, as JSON."""
    con = _memory_connection(env)
    try:
        row = con.execute("select json_serialize_sql(?::varchar)", [sql]).fetchone()
    except duckdb.Error as exc:
        raise QueryRefused(f"the query cannot be analysed: {_first_line(exc)}") from exc
    finally:
        con.close()
    tree = json.loads(row[0]) if row else {"error": True}
    if tree.get("error"):
        message = tree.get("error_message", "unknown parser error")
        raise QueryRefused(f"the query cannot be analysed, so it is not run: {message}")
    return tree


@dataclass
class _References:
    """Table references, table functions and CTE names found anywhere in a parse tree."""

    tables: list[dict[str, Any]] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    shows: list[dict[str, Any]] = field(default_factory=list)
    ctes: set[str] = field(default_factory=set)

    def collect(self, node: object) -> None:
        for item in _nodes(node):
            cte_map = item.get("cte_map")
            if isinstance(cte_map, dict):
                self.ctes.update(str(e.get("key", "")).lower() for e in cte_map.get("map", []))
            if item.get("type") == "RECURSIVE_CTE_NODE" and item.get("cte_name"):
                self.ctes.add(str(item["cte_name"]).lower())
            if "class" in item:  # an expression, not a table reference
                if item.get("function_name"):  # a scalar, aggregate or window function call
                    self.calls.append(str(item["function_name"]).lower())
                continue
            kind = item.get("type")
            if kind == "BASE_TABLE":
                self.tables.append(item)
            elif kind == "TABLE_FUNCTION":
                function = item.get("function") or {}
                self.functions.append(str(function.get("function_name", "?")))
            elif kind == "SHOW_REF":
                self.shows.append(item)

    def check(self) -> list[str]:
        if self.functions:
            names = ", ".join(f"{f}()" for f in sorted(set(self.functions)))
            raise QueryRefused(
                f"table functions are not allowed ({names}): query tables as <layer>.<table>"
            )
        exposing = sorted({f for f in self.calls if exposes_server(f)})
        if exposing:
            names = ", ".join(f"{f}()" for f in exposing)
            raise QueryRefused(
                f"{names}: functions that read the server's settings, environment, catalogue "
                "or files are not allowed"
            )
        for show in self.shows:
            if not show.get("query"):
                raise QueryRefused("SHOW is not allowed: query tables as <layer>.<table>")
        found = []
        for ref in self.tables:
            catalog = ref.get("catalog_name") or ""
            schema = (ref.get("schema_name") or "").lower()
            name = (ref.get("table_name") or "").lower()
            written = ".".join(
                p for p in (catalog, ref.get("schema_name"), ref.get("table_name")) if p
            )
            if catalog:
                raise QueryRefused(
                    f"{written}: other catalogues are not allowed, name tables as <layer>.<table>"
                )
            if ref.get("at_clause"):
                raise QueryRefused(f"{written}: AT (...) is not allowed, use --as-of")
            if not schema:
                if name in self.ctes:
                    continue
                raise QueryRefused(
                    f"unknown table {written}: name tables as <layer>.<table> "
                    f"with layer {', '.join(QUERY_LAYERS)}"
                )
            if schema not in QUERY_LAYERS:
                raise QueryRefused(
                    f"{written}: schema {schema} is not queryable, only {', '.join(QUERY_LAYERS)}"
                )
            found.append(f"{schema}.{name}")
        return sorted(set(found))


def exposes_server(function: str) -> bool:
    """Whether a function (by name) reads or changes the server's settings, environment or files."""
    name = function.lower()
    return name in EXPOSING_FUNCTIONS or name.startswith(EXPOSING_PREFIXES)


def _nodes(node: object) -> Iterator[dict[str, Any]]:
    """Every JSON object in the tree, depth first."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


# --- time travel --------------------------------------------------------------------------------


def parse_as_of(as_of: str | int | datetime | None) -> int | datetime | None:
    """An integer is a Delta version, anything else an ISO timestamp (naive means UTC)."""
    if as_of is None or isinstance(as_of, int):
        return as_of
    if isinstance(as_of, datetime):
        moment = as_of
    else:
        text = as_of.strip()
        if _VERSION.match(text):
            return int(text)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise QueryRefused(
                f"--as-of {as_of!r} is neither a version number nor an ISO timestamp"
            ) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def open_snapshot(table: str, path: StoragePath, as_of: int | datetime | None) -> DeltaTable:
    """The Delta table as it is now, at a version, or at a moment; refuses what does not exist."""
    latest = DeltaTable(str(path))
    if as_of is None:
        return latest
    if isinstance(as_of, int):
        if as_of > latest.version():
            raise QueryRefused(
                f"{table} has no version {as_of} (latest is {latest.version()})", [table]
            )
        try:
            return DeltaTable(str(path), version=as_of)
        except Exception as exc:  # deltalake raises its own DeltaError for vacuumed versions
            raise QueryRefused(
                f"{table} has no version {as_of}: {_first_line(exc)}", [table]
            ) from exc
    first = min((entry["timestamp"] for entry in latest.history()), default=None)
    if first is None or as_of < _EPOCH + timedelta(milliseconds=first):
        raise QueryRefused(f"{table} did not exist at {as_of.isoformat()}", [table])
    latest.load_as_version(as_of)
    return latest


# --- running ------------------------------------------------------------------------------------


def _memory_connection(env: Environment | None) -> duckdb.DuckDBPyConnection:
    return connect_duckdb(env) if env is not None else duckdb.connect(":memory:")


def connect(
    snapshots: dict[str, DeltaTable], env: Environment | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with each snapshot as view `<layer>.<name>`, then locked down.

    With `env` it runs within the analyst memory limit (`analyst_sql`), spilling to the
    environment's temp directory up to the analyst allowance; the lock keeps both."""
    con = _memory_connection(env)
    try:
        if env is not None:
            con.execute(f"SET memory_limit = '{env.analyst_sql.memory_limit}'")
            con.execute(
                f"SET max_temp_directory_size = '{env.analyst_sql.max_temp_directory_size}'"
            )
        for table, snapshot in snapshots.items():
            layer, name = table.split(".", 1)
            private = f"__delta_{uuid.uuid4().hex}"
            con.register(private, snapshot.to_pyarrow_dataset())
            con.execute(f'create schema if not exists "{layer}"')
            con.execute(f'create view "{layer}"."{name}" as select * from "{private}"')
        for setting in LOCKDOWN:
            con.execute(setting)
    except BaseException:
        con.close()
        raise
    return con


def run_query(
    env: Environment,
    sql: str,
    user: User | str,
    purpose: str,
    as_of: str | int | datetime | None = None,
    *,
    task: str | None = None,
    tasked: bool = False,
) -> QueryResult:
    """Check and run one read-only query for `user`; raises QueryRefused or QueryFailed.

    With `tasked`, the query must name an open task whose datasets cover the tables it reads
    (transforms/governance/tasks.py). Writes nothing: `audited_query` (what `lakehouse sql`
    calls, always tasked) records it in `ops.audit_log`."""
    started = time.perf_counter()
    if isinstance(user, str):
        try:
            user = get_user(env.catalogue_dir, user)
        except UnknownUser as exc:
            raise QueryRefused(str(exc)) from exc
    if not purpose.strip():
        raise QueryRefused("--purpose must say why the query is necessary")
    statement, tables = check_statement(sql, env)
    known = available_tables(env)
    for table in tables:
        if table not in known:
            raise QueryRefused(
                f"unknown table {table}: not a Delta table in {', '.join(QUERY_LAYERS)}", tables
            )
    if tasked:
        try:
            require_open_task(env, task, tables)
        except TaskRefused as exc:
            raise QueryRefused(str(exc), tables) from exc
    moment = parse_as_of(as_of)
    snapshots = {table: open_snapshot(table, known[table], moment) for table in tables}
    catalogue = load_catalogue(env.catalogue_dir)
    for table, snapshot in snapshots.items():
        classification = table_classification(table, snapshot, catalogue)
        if not user.may_see(classification):
            raise QueryRefused(
                f"{table} holds {classification} data, above {user.name}'s clearance "
                f"{user.clearance}",
                tables,
            )
    con = connect(snapshots, env)
    try:
        frame = execute_bounded(con, statement, env.analyst_sql, tables)
    finally:
        con.close()
    return QueryResult(frame, tables, time.perf_counter() - started)


def execute_bounded(
    con: duckdb.DuckDBPyConnection,
    statement: duckdb.Statement | str,
    limits: AnalystSqlSettings,
    tables: list[str],
) -> pl.DataFrame:
    """Run `statement` on `con` within `limits`: at most `row_limit` rows, interrupted past the
    statement timeout; raises QueryCancelled naming the limit, QueryFailed for other errors.

    DuckDB has no statement timeout, so a watchdog thread interrupts the connection when the time
    is up, and keeps interrupting until the query returns (an interrupt sent before the query
    starts would otherwise be lost). The caller closes the connection."""
    done = threading.Event()
    fired = threading.Event()

    def watchdog() -> None:
        if done.wait(limits.statement_timeout_s):
            return
        fired.set()
        while not done.is_set():
            con.interrupt()
            done.wait(0.05)

    timer = threading.Thread(target=watchdog, name="sql-statement-timeout", daemon=True)
    timer.start()
    try:
        # One row past the limit tells "exactly row_limit" from "more": none beyond are read.
        arrow = con.sql(statement).limit(limits.row_limit + 1).to_arrow_table()
    except duckdb.Error as exc:
        cancelled = cancellation(exc, limits, fired.is_set(), tables)
        raise (cancelled or QueryFailed(_first_line(exc), tables)) from exc
    finally:
        done.set()
        timer.join()
    if arrow.num_rows > limits.row_limit:
        raise QueryCancelled(
            f"cancelled: row limit of {limits.row_limit} rows exceeded (analyst_sql.row_limit): "
            "aggregate, filter or add LIMIT",
            tables,
        )
    frame = pl.from_arrow(arrow)
    assert isinstance(frame, pl.DataFrame)
    return frame


def cancellation(
    exc: duckdb.Error, limits: AnalystSqlSettings, timed_out: bool, tables: list[str]
) -> QueryCancelled | None:
    """The QueryCancelled a DuckDB error means (interrupted by the timeout, or out of memory or
    of spill room), naming the limit; None for any other error."""
    if isinstance(exc, duckdb.InterruptException) and timed_out:
        seconds = f"{limits.statement_timeout_s:g}"
        return QueryCancelled(
            f"cancelled: statement timeout of {seconds} s reached (analyst_sql.statement_timeout_s)",
            tables,
        )
    if isinstance(exc, duckdb.OutOfMemoryException):
        return QueryCancelled(
            f"cancelled: memory limit of {limits.memory_limit} reached (analyst_sql.memory_limit; "
            f"at most {limits.max_temp_directory_size} spilled to disk)",
            tables,
        )
    return None


def audited_query(
    env: Environment,
    sql: str,
    *,
    user: str,
    purpose: str,
    as_of: str | int | datetime | None = None,
    task: str | None = None,
) -> QueryResult:
    """`run_query` under an open task, with the outcome (allowed, refused or error) appended to
    `ops.audit_log`."""
    started = time.perf_counter()
    try:
        result = run_query(env, sql, user, purpose, as_of, task=task, tasked=True)
    except Exception as exc:
        outcome = "refused" if isinstance(exc, QueryRefused) else "error"
        audit(
            env,
            user=user,
            purpose=purpose,
            action="sql",
            sql=sql,
            tables=getattr(exc, "tables", []),
            rows=0,
            seconds=time.perf_counter() - started,
            outcome=outcome,
            reason=_first_line(exc),
            task=task,
        )
        raise
    audit(
        env,
        user=user,
        purpose=purpose,
        action="sql",
        sql=sql,
        tables=result.tables,
        rows=result.frame.height,
        seconds=result.seconds,
        outcome="allowed",
        task=task,
    )
    return result


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
