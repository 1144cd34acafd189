"""The dashboard end to end: a database filled by the real pipeline, the production build served by
``next start``, Debian's Chromium driven by playwright-core through every page.

Asserts that each chart drew exactly the points the database holds for it (counted in the SVG and
recomputed here with SQL), that a wrong password is refused, sessions are HttpOnly/SameSite=Lax, the
pages carry a content-security policy, and that a live tick from the sidecar moves the ticker when the
sidecar (``cryptoderiv stream run``) exists. Screenshots go to ``dashboard/test-results/``.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from cryptoderiv.simulator import SimulatorServer
from cryptoderiv.storage.migrations import dashboard_url
from tests.integration.dashboard import support

pytestmark = [pytest.mark.slow]

RESULTS = support.DASHBOARD_DIR / "test-results"
NOW = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(days=1)


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def filled(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE instruments, ohlcv, trades, funding_rates, open_interest, futures_quotes,"
                     " option_quotes, option_greeks, vol_surfaces, vol_surface_metrics, dq_results, quarantine,"
                     " ingest_runs RESTART IDENTITY CASCADE")
    return support.fill_market_database(database_url, lambda clock: SimulatorServer(seed=5, clock=clock), NOW)


@pytest.fixture(scope="module")
def sidecar(database_url: str, filled: dict[str, int],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """``cryptoderiv stream run`` against a live simulator, when the sidecar exists; else None."""
    try:
        import cryptoderiv.cli.stream  # noqa: F401
    except ImportError:
        yield None
        return
    import time
    import urllib.request

    port = support.free_port()
    with SimulatorServer(seed=5) as sim:
        log = tmp_path_factory.mktemp("sidecar") / "sidecar.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cryptoderiv.cli", "stream", "run", "--config",
                 str(support.PROJECT_ROOT / "streaming" / "subscriptions.yaml"), "--host", "127.0.0.1",
                 "--port", str(port)],
                env={**support.node_env(), "DATABASE_URL": database_url, "EXCHANGE_SOURCE": "simulator",
                     "SIMULATOR_URL": sim.url}, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                        break
                except OSError:
                    time.sleep(0.5)
            assert proc.poll() is None, log.read_text()[-3000:]
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=20)


@pytest.fixture(scope="module")
def dashboard(database_url: str, filled: dict[str, int], sidecar: str | None,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[support.DashboardServer]:
    _need("node")
    support.ensure_build()
    server = support.DashboardServer(dashboard_url(database_url), sidecar or f"http://127.0.0.1:{support.free_port()}")
    server.start(tmp_path_factory.mktemp("dashboard"))
    try:
        yield server
    finally:
        server.stop()


def _browse(server: support.DashboardServer, ticker: bool) -> dict:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    cmd = ["node", "e2e/run.mjs", "--base", server.url, "--user", support.TEST_USER, "--password",
           support.TEST_PASSWORD, "--out", str(RESULTS)] + (["--ticker", "1"] if ticker else [])
    done = subprocess.run(cmd, cwd=support.DASHBOARD_DIR, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _expected(conn: psycopg.Connection) -> dict[str, int]:
    """How many marks each chart must draw, from the database (independently of the dashboard code)."""
    one = lambda q, *a: conn.execute(q, a).fetchone()[0]  # noqa: E731
    last = one("SELECT max(ts) FROM ohlcv o JOIN instruments i USING (instrument_id)"
               " WHERE i.exchange = 'binance' AND i.symbol = 'BTC/USDT'")
    end = last + pd.Timedelta(minutes=1)
    # default range 1 w, 400 buckets -> 26-minute buckets of 1m bars (the plan is unit-tested in Vitest)
    candles = one("SELECT count(DISTINCT date_bin('26 minutes', o.ts, timestamptz '2000-01-01')) FROM ohlcv o"
                  " JOIN instruments i USING (instrument_id) WHERE i.exchange = 'binance' AND i.symbol = 'BTC/USDT'"
                  " AND o.timeframe = '1m' AND o.ts >= %s AND o.ts < %s", end - pd.Timedelta(days=7), end)
    snapshot = one("SELECT max(ts) FROM vol_surfaces WHERE exchange = 'deribit' AND base = 'BTC'")
    expiries = one("SELECT count(*) FROM vol_surfaces WHERE exchange = 'deribit' AND base = 'BTC' AND ts = %s",
                   snapshot)
    return {"candles": candles, "surface_rows": expiries,
            "metrics": one("SELECT count(*) FROM vol_surface_metrics WHERE rr_25d_30d IS NOT NULL"),
            "heston": one("SELECT count(*) FROM heston_params WHERE underlying = 'BTC'"),
            "dq_tables": one("SELECT count(DISTINCT table_name) FROM dq_results"),
            "quarantine_tables": one("SELECT count(DISTINCT table_name) FROM quarantine"),
            "positions": one("SELECT count(*) FROM positions"),
            "alerts": one("SELECT count(*) FROM alerts")}


def test_every_page_draws_the_database_and_sign_in_is_enforced(
        dashboard: support.DashboardServer, database_url: str, sidecar: str | None) -> None:
    result = _browse(dashboard, ticker=sidecar is not None)
    with psycopg.connect(database_url) as conn:
        want = _expected(conn)

    wrong = result["wrongPassword"]
    assert "/sign-in?error=credentials" in wrong["url"] and wrong["error"] == "Wrong user name or password."
    assert wrong["sessionCookies"] == 0 and wrong["apiStatusWithoutSession"] == 401
    assert result["session"] == {"httpOnly": True, "sameSite": "Lax", "secure": False}
    assert result["signOut"]["apiStatus"] == 401

    pages = result["pages"]
    assert set(pages) == {"overview", "options", "models", "risk", "quality", "alerts"}
    for name, page in pages.items():
        assert page["status"] == 200, name
        assert "script-src 'self' 'nonce-" in page["csp"] and "frame-ancestors 'none'" in page["csp"], name
        assert Path(page["screenshot"]).stat().st_size > 10_000, name
        for chart in page["charts"]:  # what the chart says it has is what it drew
            assert chart["drawn"] == chart["points"], (name, chart)
            assert chart["empty"] == (chart["points"] == 0), (name, chart)
    charts = {c["name"]: c for p in pages.values() for c in p["charts"]}

    assert charts["candles"]["points"] == want["candles"] > 100
    assert charts["funding"]["points"] > 0 and charts["basis"]["points"] > 0
    assert charts["surface"]["points"] == 21 * want["surface_rows"] > 0  # 21 log-moneyness columns per expiry
    assert charts["smile"]["points"] > 20 and charts["oi"]["points"] > 10 and charts["gex"]["points"] == 121
    assert charts["term"]["points"] > 0
    assert charts["skew"]["points"] == 2 * want["metrics"] > 0
    assert charts["heston-var"]["points"] == 3 * want["heston"]
    assert charts["dq-latest"]["points"] >= want["dq_tables"] > 0
    assert charts["quarantine"]["points"] == want["quarantine_tables"] > 0
    assert (charts["expected"]["points"] > 0) == (want["positions"] > 0 and charts["expected"]["points"] > 0)
    assert charts["alert-history"]["points"] == 0 if want["alerts"] == 0 else charts["alert-history"]["points"] > 0
    # no Airflow in the test: the pipelines panel degrades to a readable empty state
    assert pages["quality"]["emptyPanels"] >= 1

    if sidecar is None:
        pytest.xfail("the streaming sidecar (cryptoderiv.streaming.cli) is not built yet: live tick not checked")
    ticker = result["ticker"]
    assert ticker["state"] == "connected", ticker
    assert ticker["first"] is not None and ticker["moved"] is not None, ticker
    assert math.isfinite(float(ticker["moved"]["last"]))


def test_data_layer_vitest_against_the_filled_database(dashboard: support.DashboardServer,
                                                       database_url: str) -> None:
    done = subprocess.run(["npx", "vitest", "run", "tests/dataLayer.test.ts"], cwd=support.DASHBOARD_DIR,
                          env=support.node_env(DASHBOARD_DATABASE_URL=dashboard_url(database_url)),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "skipped" not in done.stdout.split("Tests")[-1], done.stdout[-1000:]
