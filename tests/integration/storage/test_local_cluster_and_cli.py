"""The local cluster's life cycle and the CLI, run for real (a cluster of their own, another port)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from cryptoderiv.config import Settings
from cryptoderiv.storage.local_cluster import LocalCluster

CLI = [sys.executable, "-m", "cryptoderiv.cli"]


@pytest.fixture(scope="module")
def scratch_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    local_dir = Path("/tmp") / f"cryptoderiv-cluster-test-{os.getpid()}"
    settings = Settings(local_dir=local_dir, local_pg_port=55499, database_url=None)
    yield settings
    LocalCluster(settings).stop()
    shutil.rmtree(local_dir, ignore_errors=True)


def test_cluster_starts_idempotently_listens_on_loopback_and_stops(scratch_settings: Settings) -> None:
    cluster = LocalCluster(scratch_settings)
    assert not cluster.status().initialised
    assert cluster.start() is True
    assert cluster.start() is False  # already running
    assert cluster.status().running
    with psycopg.connect(cluster.url()) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert conn.execute("SHOW TimeZone").fetchone() == ("UTC",)
    assert (scratch_settings.local_dir / "pg_password").stat().st_mode & 0o077 == 0
    assert cluster.stop() is True
    assert cluster.stop() is False
    assert not cluster.status().running
    assert cluster.start() is True  # restarts on the same data
    cluster.stop()


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_cli_errors_are_one_line_and_a_non_zero_exit() -> None:
    result = _cli("db", "migrate", env={"DATABASE_URL": "postgresql://nobody:pw-never-shown@127.0.0.1:9/none"})
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot connect to the database at 127.0.0.1:9/none")
    assert "pw-never-shown" not in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_db_url_and_migrate_against_a_given_server(database_url: str) -> None:
    result = _cli("db", "migrate", env={"DATABASE_URL": database_url})
    assert result.returncode == 0 and "schema up to date" in result.stdout
    assert _cli("db", "url", env={"DATABASE_URL": database_url}).stdout.strip() == database_url


@pytest.mark.skipif(os.geteuid() != 0, reason="the fallback only applies when run as root")
def test_a_checkout_the_server_account_cannot_reach_gets_a_data_folder_it_can(tmp_path: Path) -> None:
    private = tmp_path / "private-home"
    private.mkdir(mode=0o700)
    settings = Settings(local_dir=private / "checkout" / ".local", local_pg_port=55498, database_url=None)
    cluster = LocalCluster(settings)
    assert str(cluster.data_dir).startswith("/var/lib/cryptoderiv/")
    try:
        assert cluster.start() is True
        with psycopg.connect(cluster.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root.parent, ignore_errors=True)
