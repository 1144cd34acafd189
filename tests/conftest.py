"""Fixtures shared by the whole suite."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_MARKET_DIR = PROJECT_ROOT.parent / "shared" / "data" / "market"

# Airflow reads its configuration when first imported: give the test run its own home and metadata
# database before any test module imports it. (Nothing of the user's Airflow is touched.)
AIRFLOW_TEST_HOME = Path(tempfile.gettempdir()) / f"cryptoderiv-airflow-test-{os.getpid()}"
os.environ.update({
    "AIRFLOW_HOME": str(AIRFLOW_TEST_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_TEST_HOME}/airflow.db",
    "AIRFLOW__CORE__PARALLELISM": "4",
    # Two bundles: the real DAGs, and DAGs that exist only for tests (e.g. one that always fails).
    "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps([
        {"name": name, "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
         "kwargs": {"path": str(path)}}
        for name, path in (("dags-folder", PROJECT_ROOT / "dags"),
                           ("test-dags", PROJECT_ROOT / "tests" / "integration" / "airflow" / "fixture_dags"))
    ]),
})


@pytest.fixture(scope="session")
def shared_market_dir() -> Path:
    """``../shared/data/market``: real published market data; skip the test when it is absent."""
    if not SHARED_MARKET_DIR.is_dir():
        pytest.skip(f"real market data not found at {SHARED_MARKET_DIR} (../shared/data is not checked out)")
    return SHARED_MARKET_DIR


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, migrated database for this test run (on the local cluster or DATABASE_URL's server),
    dropped at the end. Tests never touch the demo database."""
    import psycopg
    from psycopg import sql

    from cryptoderiv.config import get_settings
    from cryptoderiv.storage.database import ensure_database
    from cryptoderiv.storage.migrations import migrate

    server_url = ensure_database(get_settings())
    name = f"cryptoderiv_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture()
def db(database_url: str) -> Iterator[Any]:
    """A connection to the test database; market tables are emptied before each test."""
    import psycopg

    with psycopg.connect(database_url, options="-c timezone=UTC") as conn:
        conn.execute("TRUNCATE instruments, ohlcv, trades, funding_rates, open_interest, futures_quotes,"
                     " option_quotes, ingest_runs RESTART IDENTITY")
        conn.commit()
        yield conn


@dataclass
class SmtpCatcher:
    """A real SMTP server on loopback that keeps what it receives."""

    port: int
    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpCatcher]:
    """An SMTP server (aiosmtpd) on 127.0.0.1 for the run; tests read ``.messages``."""
    from aiosmtpd.controller import Controller

    from cryptoderiv.stack.supervisor import free_port

    port = free_port()
    catcher = SmtpCatcher(port)
    controller = Controller(catcher, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield catcher
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def airflow_env(database_url: str, smtp_server: SmtpCatcher) -> Iterator[Path]:
    """Airflow's metadata database migrated, and the platform's connections pointing at the test
    database and the test SMTP server (as AIRFLOW_CONN_* variables, the local way)."""
    from urllib.parse import urlsplit

    parts = urlsplit(database_url)
    os.environ["AIRFLOW_CONN_CRYPTODERIV_DB"] = json.dumps({
        "conn_type": "postgres", "host": parts.hostname, "port": parts.port, "login": parts.username,
        "password": unquote(parts.password or ""), "schema": parts.path.lstrip("/")})
    os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": smtp_server.port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "airflow@cryptoderiv.local"}})
    AIRFLOW_TEST_HOME.mkdir(parents=True, exist_ok=True)
    migrate = subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
                             capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    from cryptoderiv.airflow_runtime import pools_import_command

    pools = subprocess.run([str(Path(sys.executable).parent / "airflow"), *pools_import_command(AIRFLOW_TEST_HOME)],
                           capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert pools.returncode == 0, pools.stderr[-2000:]
    try:
        yield AIRFLOW_TEST_HOME
    finally:
        shutil.rmtree(AIRFLOW_TEST_HOME, ignore_errors=True)
