"""One SparkSession per process, configured from the environment helper.

Splink's similarity functions live in a jar that must be on the first session's classpath, so
every Spark user (dbt-spark's `session` method, Splink's `SparkAPI`, our Delta reads) goes
through `spark_session()`, which builds that first session. dbt-spark's `getOrCreate()` then
returns it, so dbt sees the bronze views registered here. Spark allows one such session per
process, so the first environment's settings hold for the life of the process.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING

from transforms.config import Environment

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Folders under the Spark scratch that hold copies of records (dbt tables, checkpoints, Splink's
# intermediate tables): destruction removes them; the next run rebuilds what it needs.
WAREHOUSE_FOLDER, CHECKPOINT_FOLDER, SPLINK_FOLDER = "warehouse", "checkpoints", "splink"
RECORD_COPY_FOLDERS = (WAREHOUSE_FOLDER, CHECKPOINT_FOLDER, SPLINK_FOLDER)

# Where the driver JVM keeps Derby (the metastore and derby.log): under the lakehouse's Spark
# folder. Options the config file adds to this setting are appended, so they cannot move Derby
# into the working directory.
JAVA_OPTIONS = "spark.driver.extraJavaOptions"

_LOCK = threading.Lock()
_SESSION: SparkSession | None = None


def session_conf(env: Environment) -> dict[str, str]:
    """Every option of the session: ours first, then the config file's (which may override)."""
    from splink.backends.spark import similarity_jar_location

    spark_dir = env.spark_dir.resolve()
    metastore = spark_dir / "metastore_db"
    derby = f"-Dderby.system.home={spark_dir}"
    conf = {
        "spark.app.name": "ndec-lakehouse",
        "spark.jars": similarity_jar_location(),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.warehouse.dir": str(spark_dir / WAREHOUSE_FOLDER),
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={metastore};create=true"
        ),
        JAVA_OPTIONS: derby,
        # Hive's per-session resource folder defaults to /tmp and is never removed.
        "spark.hadoop.hive.downloaded.resources.dir": str(spark_dir / "hive-resources"),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
    }
    theirs = env.spark.conf.get(JAVA_OPTIONS)
    conf.update(env.spark.conf)
    if theirs:  # the file's JVM options go beside ours, never instead
        conf[JAVA_OPTIONS] = f"{derby} {theirs}"
    return conf


def is_local_master(master: str) -> bool:
    """`local`, `local[N]`, `local[*]`: the driver and executors share this machine."""
    return master == "local" or master.startswith("local[")


def _use_loopback() -> None:
    """Bind a local-mode JVM to the loopback, so Spark itself looks up no host name.

    Spark resolves the machine's host name at start-up; on a host whose name is not in
    /etc/hosts that fails at once, or waits on DNS where DNS is slow. A local session talks only
    to itself, so the loopback is always right (a cluster master keeps the host's address).
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("SPARK_LOCAL_HOSTNAME", "localhost")


def spark_session(env: Environment) -> SparkSession:
    """The process's session, created on first use (Splink's jar on it, UTC, Derby metastore)."""
    global _SESSION
    with _LOCK:
        if _SESSION is not None and _SESSION.sparkContext._jsc is not None:  # noqa: SLF001
            return _SESSION
        from pyspark.sql import SparkSession

        env.spark_dir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers run the UDFs
        if is_local_master(env.spark.master):
            _use_loopback()
        builder = SparkSession.builder.master(env.spark.master)
        for key, value in session_conf(env).items():
            builder = builder.config(key, value)
        _SESSION = builder.enableHiveSupport().getOrCreate()
        _SESSION.sparkContext.setLogLevel("ERROR")
        _SESSION.sparkContext.setCheckpointDir(str(env.spark_dir.resolve() / CHECKPOINT_FOLDER))
        return _SESSION
