"""The SparkSession every job and test uses.

Local runs need three things the defaults get wrong on the project's machines: the Python workers must
be the virtualenv's interpreter (or they lack pyarrow), the PostgreSQL JDBC driver comes from Debian's
``/usr/share/java/postgresql.jar`` (no Maven downloads), and timestamps must be read and written in UTC
(session time zone and the JVMs' default time zone, which the JDBC driver uses).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Final

from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

#: Debian's PostgreSQL JDBC driver (package libpostgresql-jdbc-java)
DEFAULT_JDBC_JAR: Final = "/usr/share/java/postgresql.jar"
#: environment variables read when no argument is given
MASTER_ENV: Final = "SPARK_MASTER"
JDBC_JAR_ENV: Final = "CRYPTODERIV_JDBC_JAR"
DEFAULT_MASTER: Final = "local[2]"

_UTC_JAVA_OPTIONS: Final = "-Duser.timezone=UTC"


def python_executable() -> str:
    """The interpreter Spark's Python workers run: ``PYSPARK_PYTHON`` if set, else this process's."""
    return os.environ.get("PYSPARK_PYTHON") or sys.executable


def build_session(
    app_name: str = "cryptoderiv",
    master: str | None = None,
    *,
    jdbc_jar: str | None = None,
    shuffle_partitions: int | None = None,
    extra_conf: dict[str, str] | None = None,
) -> SparkSession:
    """Create (or return the running) SparkSession configured for the platform.

    Parameters
    ----------
    app_name : str
        Application name shown in the Spark UI.
    master : str, optional
        Spark master URL; default ``$SPARK_MASTER`` or ``local[2]``. Under ``spark-submit`` the master
        given there wins (pass ``None``).
    jdbc_jar : str, optional
        Path of the PostgreSQL JDBC driver; default ``$CRYPTODERIV_JDBC_JAR`` or Debian's jar.
    shuffle_partitions : int, optional
        ``spark.sql.shuffle.partitions``; default 2 x the default parallelism of local masters, 200 otherwise.
    extra_conf : dict, optional
        Further Spark settings (applied last).

    Returns
    -------
    pyspark.sql.SparkSession
        Session with UTC time zone, Arrow enabled, the JDBC jar on the class path.

    Raises
    ------
    FileNotFoundError
        The JDBC jar does not exist.
    """
    python = python_executable()
    os.environ.setdefault("PYSPARK_PYTHON", python)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", python)
    jar = jdbc_jar or os.environ.get(JDBC_JAR_ENV) or DEFAULT_JDBC_JAR
    if not Path(jar).is_file():
        raise FileNotFoundError(f"PostgreSQL JDBC driver not found at {jar} (install libpostgresql-jdbc-java)")
    # under spark-submit the JVM is already up with the submitted master and jars: keep them
    chosen = None if _running_under_submit() and master is None else (
        master or os.environ.get(MASTER_ENV) or DEFAULT_MASTER)

    builder = SparkSession.builder.appName(app_name)
    if chosen is not None:
        builder = builder.master(chosen)
    local = chosen is None or chosen.startswith("local")
    conf = {
        "spark.jars": jar,
        "spark.driver.extraClassPath": jar,
        "spark.executor.extraClassPath": jar,
        "spark.pyspark.python": python,
        "spark.pyspark.driver.python": python,
        "spark.executorEnv.PYSPARK_PYTHON": python,
        # one Python worker per core already: the kernels' own threads would oversubscribe the cores
        "spark.executorEnv.NUMBA_NUM_THREADS": "1",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": _UTC_JAVA_OPTIONS,
        "spark.executor.extraJavaOptions": _UTC_JAVA_OPTIONS,
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": "100000",
        "spark.sql.shuffle.partitions": str(shuffle_partitions or (4 if local else 200)),
        "spark.ui.showConsoleProgress": "false",
        "spark.ui.enabled": "false" if local else "true",
    }
    conf.update(extra_conf or {})
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    log.info("spark session %s on %s (python %s, jdbc %s)", app_name, session.sparkContext.master, python, jar)
    return session


def _running_under_submit() -> bool:
    """Whether this driver was started by ``spark-submit`` (its JVM is already up and owns the master)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ
