"""The local Airflow the platform runs its DAGs on: environment, metadata database, DAG runs.

This module never imports Airflow (the library must not): it prepares the environment of the
``airflow`` command (home under ``LOCAL_DIR/airflow``, SQLite metadata, parallelism sized for two
cores, the platform's connections as ``AIRFLOW_CONN_*`` built from the settings) and runs it as a
subprocess. ``make demo`` uses it to run each stage through Airflow; ``make up`` will use the same
environment for the long-running services.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cryptoderiv.config import PROJECT_ROOT, Settings
from cryptoderiv.errors import CryptoderivError
from cryptoderiv.ingest.universe import VENUES, venue_pool

log = logging.getLogger(__name__)


class AirflowRunError(CryptoderivError):
    """An Airflow command or DAG run failed."""


FINISHED = re.compile(r"DagRun Finished: dag_id=(?P<dag>[\w.-]+), .*?run_id=(?P<run>[^,]+), .*?state=(?P<state>\w+)")


@dataclass(frozen=True)
class DagRunOutcome:
    dag_id: str
    run_id: str | None
    state: str
    log_file: Path

    @property
    def succeeded(self) -> bool:
        return self.state == "success"


#: The API user the dashboard reads recent DAG runs with (role viewer: read-only).
DASHBOARD_API_USER = "dashboard"
VENUE_POOL_SLOTS = 2  # concurrent tasks per venue: stays well inside every venue's public rate limit


def pools_import_command(directory: Path) -> list[str]:
    """``airflow`` arguments that create (or update) one pool per venue, from a file written here."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "pools.json"
    path.write_text(json.dumps({venue_pool(v): {"slots": VENUE_POOL_SLOTS, "description": f"requests to {v}",
                                                "include_deferred": False} for v in VENUES}, indent=2))
    return ["pools", "import", str(path)]


class AirflowRuntime:
    """Run the ``airflow`` CLI against the project's local Airflow."""

    def __init__(self, settings: Settings, database_url: str, extra_env: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.database_url = database_url
        self.extra_env = extra_env or {}
        self.home = settings.local_dir / "airflow"
        self.airflow_bin = Path(sys.executable).parent / "airflow"

    def environment(self) -> dict[str, str]:
        """The environment of every ``airflow`` command (connections carry secrets: never log it)."""
        db = urlsplit(self.database_url)
        smtp_extra: dict[str, object] = {"disable_tls": True, "disable_ssl": True,
                                         "from_email": "airflow@cryptoderiv.local"}
        smtp: dict[str, object] = {"conn_type": "smtp", "host": self.settings.smtp_host,
                                   "port": self.settings.smtp_port, "extra": smtp_extra}
        if self.settings.smtp_user:
            smtp["login"] = self.settings.smtp_user
        if self.settings.smtp_password:
            smtp["password"] = self.settings.smtp_password.get_secret_value()
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
        env = {
            **inherited,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            # numba's OpenMP layer is not fork-safe and Airflow forks task processes.
            "NUMBA_THREADING_LAYER": "workqueue",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "AIRFLOW_CONN_CRYPTODERIV_DB": json.dumps({
                "conn_type": "postgres", "host": db.hostname, "port": db.port, "login": db.username,
                "password": unquote(db.password or ""), "schema": db.path.lstrip("/")}),
            "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp),
            "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark", "host": self.settings.spark_master}),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT / "plugins"), os.environ.get("PYTHONPATH")])),
            **self.extra_env,
        }
        return env

    @property
    def passwords_file(self) -> Path:
        """The simple auth manager's password file (Airflow's default place under ``AIRFLOW_HOME``)."""
        return self.home / "simple_auth_manager_passwords.json.generated"

    def api_password(self, user: str) -> str:
        """The password of simple-auth-manager ``user``, generated into :attr:`passwords_file` when missing.

        Airflow keeps the entries it finds in that file and adds generated ones only for users it lacks, so a
        password written here first is the one its API server accepts. The file is mode 0600.
        """
        path = self.passwords_file
        text = path.read_text().strip() if path.is_file() else ""
        passwords: dict[str, str] = json.loads(text) if text else {}
        if user not in passwords:
            passwords[user] = secrets.token_urlsafe(24)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(passwords) + "\n")
            path.chmod(0o600)
        return passwords[user]

    def standalone_environment(self, host: str, port: int, mlflow_url: str) -> dict[str, str]:
        """The environment of the long-running ``airflow standalone`` of ``make up``.

        On top of :meth:`environment`: the API server's address (and the execution API URL task
        processes report to), one API worker, the users (``admin``, and :data:`DASHBOARD_API_USER` with the
        read-only viewer role), the ``mlflow_default`` connection and
        ``MLFLOW_TRACKING_URI`` pointing at the stack's MLflow server, and the virtualenv first on
        ``PATH`` (standalone starts its components as ``airflow ...``).
        """
        base = f"http://{host}:{port}"
        mlflow = urlsplit(mlflow_url)
        return {
            **self.environment(),
            "PATH": os.pathsep.join([str(self.airflow_bin.parent), os.environ.get("PATH", "")]),
            "AIRFLOW__API__HOST": host,
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": base,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"admin:admin,{DASHBOARD_API_USER}:viewer",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
            "MLFLOW_TRACKING_URI": mlflow_url,
            "AIRFLOW_CONN_MLFLOW_DEFAULT": json.dumps({
                "conn_type": "http", "host": mlflow.hostname, "port": mlflow.port,
                "schema": mlflow.scheme, "description": "MLflow tracking server"}),
            **self.extra_env,
        }

    def _run(self, args: list[str], log_file: Path | None = None, timeout: float = 1800) -> int:
        self.home.mkdir(parents=True, exist_ok=True)
        out = log_file.open("w") if log_file else subprocess.DEVNULL
        try:
            return subprocess.run([str(self.airflow_bin), *args], env=self.environment(), stdout=out,
                                  stderr=subprocess.STDOUT, timeout=timeout, check=False).returncode
        finally:
            if log_file:
                out.close()  # type: ignore[union-attr]

    def migrate(self) -> None:
        """Create or upgrade Airflow's metadata database and the venue pools (idempotent)."""
        log_file = self.home / "logs" / "db-migrate.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        if self._run(["db", "migrate"], log_file) != 0:
            raise AirflowRunError(f"airflow db migrate failed; see {log_file}")
        if self._run(pools_import_command(self.home), log_file.with_name("pools.log")) != 0:
            raise AirflowRunError(f"airflow pools import failed; see {log_file.with_name('pools.log')}")

    def run_dag(self, dag_id: str, logical_date: str, conf: dict[str, object] | None = None) -> DagRunOutcome:
        """Run one DAG for ``logical_date`` in-process (``airflow dags test``), with the run ``conf``
        (its params), wait, report."""
        log_file = self.home / "logs" / "runs" / f"{dag_id}__{logical_date.replace(':', '')}.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        args = ["dags", "test", dag_id, logical_date, *(["--conf", json.dumps(conf)] if conf else [])]
        code = self._run(args, log_file)
        finished = [m for m in FINISHED.finditer(log_file.read_text(errors="replace")) if m["dag"] == dag_id]
        if code != 0 or not finished:
            return DagRunOutcome(dag_id, None, "failed", log_file)
        return DagRunOutcome(dag_id, finished[-1]["run"], finished[-1]["state"], log_file)
