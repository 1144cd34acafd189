"""The smoke test of ``make up``: start the whole local stack on free ports in a private folder, probe
every health endpoint, send a mail through the catcher, then ``down`` and check every process is gone.

It runs the real commands (``cryptoderiv stack up|status|down`` as subprocesses, the way ``make up`` runs
them) and the real services: the project PostgreSQL cluster, the exchange simulator, Airflow standalone,
the MLflow server, the mail catcher, and the sidecar and dashboard when this checkout has them.
"""

from __future__ import annotations

import http.cookiejar
import json
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from cryptoderiv.airflow_runtime import DASHBOARD_API_USER
from cryptoderiv.config import Settings
from cryptoderiv.stack.supervisor import Stack, free_ports, port_in_use, process_alive, process_tree
from tests.integration.stack.support import SMOKE_PASSWORD, SMOKE_USER, stack_environment

pytestmark = [pytest.mark.slow]

PORT_NAMES = ("pg", "simulator", "airflow", "mlflow", "dashboard", "smtp", "mail_web", "stream")


def _cli(env: dict[str, str], *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cryptoderiv.cli", "stack", *args], env=env, text=True,
                          capture_output=True, timeout=timeout, check=False)


def _get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200, url
        return json.loads(answer.read())


def _airflow_token(airflow: str, user: str, password: str) -> str:
    request = urllib.request.Request(f"{airflow}/auth/token", method="POST",
                                     data=json.dumps({"username": user, "password": password}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.loads(answer.read())["access_token"])


def _trigger_dag(airflow: str, token: str, dag_id: str, wait_s: float = 180) -> str:
    """Trigger ``dag_id`` through the REST API (retrying while the DAG processor has not parsed it yet)."""
    deadline = time.monotonic() + wait_s
    while True:
        request = urllib.request.Request(
            f"{airflow}/api/v2/dags/{dag_id}/dagRuns", method="POST", data=json.dumps({"logical_date": None}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return str(json.loads(answer.read())["dag_run_id"])
        except urllib.error.HTTPError as exc:
            if exc.code != 404 or time.monotonic() > deadline:
                raise
            time.sleep(3)


def _signed_in_page(base: str, path: str) -> str:
    """Sign in to the dashboard with the smoke test's user (a session cookie), then fetch ``path``'s HTML."""
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = urllib.parse.urlencode({"user": SMOKE_USER, "password": SMOKE_PASSWORD}).encode()
    browser.open(urllib.request.Request(f"{base}/api/auth/sign-in", data=form, headers={"Origin": base}), timeout=30)
    assert any(c.name == "cd_session" for c in jar), "sign-in failed"
    with browser.open(f"{base}{path}", timeout=30) as answer:
        return str(answer.read().decode())


@pytest.fixture(scope="module")
def running_stack() -> Iterator[tuple[dict[str, str], dict[str, int], dict[str, Any], str]]:
    """``stack up`` in a temporary LOCAL_DIR on free ports; ``stack down`` (and cleanup) afterwards."""
    local_dir = tempfile.mkdtemp(prefix="cryptoderiv-stack-")
    Path(local_dir).chmod(0o755)  # the PostgreSQL server runs as the unprivileged 'postgres' account under root
    ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
    env = stack_environment(local_dir, ports)
    began = time.monotonic()
    result = _cli(env, "up", "--quiet", timeout=600)
    up_seconds = time.monotonic() - began
    print(f"\nstack up: {up_seconds:.1f} s\n{result.stdout}")
    recorded = json.loads((Path(local_dir) / "stack" / "pids.json").read_text())["services"]
    try:
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-3000:]}"
        yield env, ports, recorded, result.stdout
    finally:
        if (Path(local_dir) / "stack" / "pids.json").exists():
            _cli(env, "down", timeout=300)
        shutil.rmtree(local_dir, ignore_errors=True)


def test_up_probe_every_service_then_down(running_stack: tuple[dict[str, str], dict[str, int], dict[str, Any], str]
                                          ) -> None:
    env, ports, recorded, up_output = running_stack
    local_dir = Path(env["LOCAL_DIR"])
    for name in ("postgresql", "simulator", "mail", "mlflow", "airflow"):
        assert name in recorded, f"{name} was not started: {up_output}"

    # Airflow: API server, metadata database and scheduler healthy; the venue pools were imported.
    airflow = f"http://127.0.0.1:{ports['airflow']}"
    health = _get_json(f"{airflow}/api/v2/monitor/health")
    assert health["metadatabase"]["status"] == "healthy" and health["scheduler"]["status"] == "healthy"
    # one password file: Airflow added admin's and kept the one the stack wrote for the dashboard's user
    passwords = json.loads((local_dir / "airflow" / "simple_auth_manager_passwords.json.generated").read_text())
    token = _airflow_token(airflow, "admin", passwords["admin"])
    pools = _get_json(f"{airflow}/api/v2/pools", {"Authorization": f"Bearer {token}"})
    assert {"venue_binance", "venue_bybit", "venue_deribit"} <= {p["name"] for p in pools["pools"]}
    # the dashboard's read-only API user (viewer) can list DAG runs, and cannot change a pool
    viewer = _airflow_token(airflow, DASHBOARD_API_USER, passwords[DASHBOARD_API_USER])
    assert "dag_runs" in _get_json(f"{airflow}/api/v2/dags/~/dagRuns?limit=5", {"Authorization": f"Bearer {viewer}"})
    change = urllib.request.Request(f"{airflow}/api/v2/pools/venue_binance", method="PATCH",
                                    data=json.dumps({"slots": 9}).encode(),
                                    headers={"Content-Type": "application/json", "Authorization": f"Bearer {viewer}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(change, timeout=10)
    assert refused.value.code == 403

    # MLflow answers its health endpoint and its API (the Host header check passes).
    with urllib.request.urlopen(f"http://127.0.0.1:{ports['mlflow']}/health", timeout=10) as answer:
        assert answer.status == 200
    experiments = _get_json(f"http://127.0.0.1:{ports['mlflow']}/api/2.0/mlflow/experiments/search?max_results=5")
    assert "experiments" in experiments

    assert _get_json(f"http://127.0.0.1:{ports['simulator']}/_sim/health")

    # The mail catcher: a message sent over SMTP shows up in the web view.
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "airflow@cryptoderiv.local", "risk@example.com", "stack smoke test"
    msg.set_content("hello from the smoke test")
    with smtplib.SMTP("127.0.0.1", ports["smtp"], timeout=10) as smtp:
        smtp.send_message(msg)
    mail_web = f"http://127.0.0.1:{ports['mail_web']}"
    assert _get_json(f"{mail_web}/health")["status"] == "ok"
    assert [m["subject"] for m in _get_json(f"{mail_web}/api/messages")] == ["stack smoke test"]
    with urllib.request.urlopen(mail_web, timeout=10) as answer:
        assert "stack smoke test" in answer.read().decode()

    # The sidecar and the dashboard: probed when this checkout has them (up reports them unavailable otherwise).
    if "sidecar" in recorded:
        assert _get_json(f"http://127.0.0.1:{ports['stream']}/health")
    else:
        assert "sidecar" in up_output and "unavailable" in up_output
    if "dashboard" in recorded:
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['dashboard']}/api/health", timeout=10) as answer:
            assert answer.status == 200
        # a DAG run triggered in Airflow shows on the quality page, read through Airflow's API as the viewer user
        run_id = _trigger_dag(airflow, token, "maintenance__time_tables")
        html = _signed_in_page(f"http://127.0.0.1:{ports['dashboard']}", "/quality")
        assert 'data-testid="dag-runs"' in html and "maintenance__time_tables" in html, html[-2000:]
        assert run_id.split("T")[0] in html

    # status: every service this stack started is healthy (exit 0).
    status = _cli(env, "status", timeout=300)
    assert status.returncode == 0, status.stdout + status.stderr[-2000:]
    for name in recorded:
        assert any(line.split()[:1] == [name] and "healthy" in line for line in status.stdout.splitlines()), name

    # down stops exactly what up started: every recorded process and everything it spawned.
    trees = {name: process_tree(int(e["pid"]), int(e.get("pgid", e["pid"]))) for name, e in recorded.items()
             if name != "postgresql"}
    assert len(trees["mlflow"]) > 1 and len(trees["airflow"]) > 4  # workers and components, not just the leader
    down = _cli(env, "down", timeout=300)
    assert down.returncode == 0, down.stdout + down.stderr[-2000:]
    for name, entry in recorded.items():
        assert not process_alive(int(entry["pid"]), entry.get("start_time")), f"{name} pid {entry['pid']} alive"
    survivors = {name: [p for p in pids if process_alive(p)] for name, pids in trees.items()}
    assert not any(survivors.values()), survivors
    assert not (local_dir / "stack" / "pids.json").exists()
    assert not any(port_in_use(ports[key]) for key in ("simulator", "airflow", "mlflow", "smtp", "mail_web", "pg"))
    settings = Settings(local_dir=local_dir, local_pg_port=ports["pg"], database_url=None)
    assert Stack(settings).recorded() == {}
