"""Submitting the platform's Spark jobs (``spark_jobs/*.py``) through the ``spark_default`` connection.

:class:`CryptoderivSparkSubmitOperator` is a :class:`SparkSubmitOperator` that, at execute time only:

* zips the installed ``cryptoderiv`` library and ships it with ``--py-files``;
* adds the PostgreSQL JDBC driver (Debian's jar) with ``--jars``;
* sets ``PYSPARK_PYTHON``/``PYSPARK_DRIVER_PYTHON`` to the worker's interpreter (unless set) and puts its
  ``bin`` directory first on ``PATH`` so ``spark-submit`` of the same environment is found;
* passes the platform database URL (from the ``cryptoderiv_db`` connection) in the environment variable
  the job is told to read (``--database-url-env``), never on the command line. On Kubernetes and YARN the
  provider would turn environment variables into ``--conf`` arguments (visible in process lists), so there
  the URL is not injected: the driver must get it from a cluster secret (see ``docs/spark.md``).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

SPARK_JOBS_DIR = Path(__file__).resolve().parents[2] / "spark_jobs"
JDBC_JAR = "/usr/share/java/postgresql.jar"
DATABASE_URL_ENV = "CRYPTODERIV_DATABASE_URL"

log = logging.getLogger(__name__)


def job_window(context: Mapping[str, Any], fallback: timedelta) -> tuple[datetime, datetime]:
    """The window ``[start, end)`` a run processes.

    In order: the union of the ``window_start``/``window_end`` extras of the asset events that triggered
    the run (what the producer wrote); the run's data interval when it is not empty; else ``fallback``
    before the run's ``run_after`` (asset-triggered runs without window extras, manual runs).
    """
    starts, ends = [], []
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            extra = getattr(event, "extra", None) or {}
            if "window_start" in extra and "window_end" in extra:
                starts.append(datetime.fromisoformat(str(extra["window_start"])))
                ends.append(datetime.fromisoformat(str(extra["window_end"])))
    if starts:
        return min(starts), max(ends)
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is not None and end is not None and end > start:
        return start, end
    anchor = context.get("logical_date") or context["dag_run"].run_after
    return anchor - fallback, anchor


class CryptoderivSparkSubmitOperator(SparkSubmitOperator):
    """Run ``spark_jobs/<job>.py`` over the run's window (see :func:`job_window`).

    Parameters
    ----------
    job : str
        Entry point name (``option_greeks``, ``vol_surface``, ``market_features``).
    partitions : int, default 4
        Parallel JDBC reads of the window.
    fallback_window : datetime.timedelta, default 1 day
        Window length before ``run_after`` when neither asset events nor the data interval give one
        (see :func:`job_window`).
    **kwargs
        Passed to :class:`SparkSubmitOperator` (``conn_id`` defaults to ``spark_default``).
    """

    def __init__(self, *, job: str, partitions: int = 4, fallback_window: timedelta = timedelta(days=1),
                 **kwargs: Any) -> None:
        kwargs.setdefault("application", str(SPARK_JOBS_DIR / f"{job}.py"))
        kwargs.setdefault("name", f"cryptoderiv.{job}")
        kwargs.setdefault("jars", JDBC_JAR)
        kwargs.setdefault("conf", {"spark.sql.session.timeZone": "UTC",
                                   "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
                                   "spark.executor.extraJavaOptions": "-Duser.timezone=UTC"})
        super().__init__(**kwargs)
        self.job = job
        self.partitions = partitions
        self.fallback_window = fallback_window

    def execute(self, context: Any) -> None:
        """Build the library zip and the environment, then submit."""
        from airflow.sdk import BaseHook

        from cryptoderiv.features.spark.packaging import build_library_zip  # no pyspark import
        from cryptoderiv_airflow.hooks import platform_database_url

        python = os.environ.get("PYSPARK_PYTHON", sys.executable)
        env = dict(self.env_vars or {})
        env.setdefault("PYSPARK_PYTHON", python)
        env.setdefault("PYSPARK_DRIVER_PYTHON", python)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        connection = BaseHook.get_connection(self._conn_id)
        master = f"{connection.conn_type}://{connection.host or ''}"
        if "k8s" not in master and "yarn" not in master:
            env[DATABASE_URL_ENV] = platform_database_url()
        start, end = job_window(context, self.fallback_window)
        self.application_args = ["--start", start.isoformat(), "--end", end.isoformat(),
                                 "--database-url-env", DATABASE_URL_ENV, "--partitions", str(self.partitions)]
        log.info("submitting %s for [%s, %s) to %s", self.job, start, end, master)
        with tempfile.TemporaryDirectory(prefix="cryptoderiv-spark-") as tmp:
            self.py_files = str(build_library_zip(Path(tmp) / "cryptoderiv.zip"))
            self.env_vars = env
            super().execute(context)
