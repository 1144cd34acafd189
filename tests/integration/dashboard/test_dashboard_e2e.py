"""The dashboard end to end: a database filled by the real pipeline, the production build served by
``next start``, Debian's Chromium driven by playwright-core through every page.

Asserts that each chart drew exactly the points the database holds for it (counted in the SVG and
recomputed here with SQL), that a wrong password is refused, sessions are HttpOnly/SameSite=Lax, the
pages carry a content-security policy, that a live tick from the sidecar (``cryptoderiv stream run``) moves
the ticker, and that an alert stored while the Alerts page is open is pushed to it live. Screenshots go to
``dashboard/test-results/``.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest

from cryptoderiv.config import get_settings
from cryptoderiv.simulator import SimulatorServer
from cryptoderiv.stack.supervisor import free_port
from cryptoderiv.storage.migrations import dashboard_url
from tests.integration.dashboard import support

pytestmark = [pytest.mark.slow]

RESULTS = support.DASHBOARD_DIR / "test-results"
NOW = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(days=1)


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def filled(database_url: str, smtp_server: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """The market through the ingestion pipelines, then forecasts (MLflow store in a temporary
    directory), the risk stage over a week of dates and alerts, all through the library. Any e-mail the
    pipeline sends goes to the test's SMTP catcher."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        # the session's database is shared: other modules' books, forecasts and alerts would show too
        conn.execute("TRUNCATE instruments, ohlcv, trades, funding_rates, open_interest, futures_quotes,"
                     " option_quotes, option_greeks, vol_surfaces, vol_surface_metrics, dq_results, quarantine,"
                     " ingest_runs, positions, position_greeks, risk_metrics, var_backtests, stress_results,"
                     " expected_returns, payoff_curves, forecasts, forecast_evaluations, alerts, alert_rules"
                     " RESTART IDENTITY CASCADE")
    simulator = lambda clock: SimulatorServer(seed=5, clock=clock)  # noqa: E731
    store = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}/mlflow.db")
        env.setenv("SMTP_HOST", "127.0.0.1")
        env.setenv("SMTP_PORT", str(smtp_server.port))
        get_settings.cache_clear()
        try:
            counts = support.fill_market_database(database_url, simulator, NOW)
            counts |= support.fill_models_risk_alerts(database_url, simulator, NOW, store)
        finally:
            get_settings.cache_clear()
    return counts


@pytest.fixture(scope="module")
def sidecar(database_url: str, filled: dict[str, int],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``cryptoderiv stream run`` against a live simulator."""
    import time
    import urllib.request

    import yaml

    port = free_port()
    folder = tmp_path_factory.mktemp("sidecar")
    # the project's subscriptions without live alert rules: a market alert fired while the pages load
    # would make the Alerts page's counts race the database (the alerts asserted are the fill's)
    config = yaml.safe_load((support.PROJECT_ROOT / "streaming" / "subscriptions.yaml").read_text())
    config["alerts"] = {"use_db_rules": False}
    (folder / "subscriptions.yaml").write_text(yaml.safe_dump(config))
    with SimulatorServer(seed=5) as sim:
        log = folder / "sidecar.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cryptoderiv.cli", "stream", "run", "--config",
                 str(folder / "subscriptions.yaml"), "--host", "127.0.0.1", "--port", str(port)],
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
def dashboard(database_url: str, filled: dict[str, int], sidecar: str,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[support.DashboardServer]:
    _need("node")
    support.ensure_build()
    server = support.DashboardServer(dashboard_url(database_url), sidecar)
    server.start(tmp_path_factory.mktemp("dashboard"))
    try:
        yield server
    finally:
        server.stop()


def _browse(server: support.DashboardServer, database_url: str) -> dict:
    """Run e2e/run.mjs; when it says it is watching the Alerts page, store an alert the way a failed task does
    (the sidecar polls ``alerts`` and pushes new rows on the channel the page listens to)."""
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from cryptoderiv.alerts import raise_pipeline_alert

    cmd = ["node", "e2e/run.mjs", "--base", server.url, "--user", support.TEST_USER, "--password",
           support.TEST_PASSWORD, "--out", str(RESULTS), "--ticker", "1", "--live-alert", "1"]
    proc = subprocess.Popen(cmd, cwd=support.DASHBOARD_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.strip() == "READY live-alert":
                raise_pipeline_alert(LIVE_ALERT_SUBJECT, "pushed live to the open Alerts page",
                                     database_url=database_url)
        err = proc.stderr.read() if proc.stderr else ""
        assert proc.wait(timeout=300) == 0, err[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    return json.loads(lines[-1])


LIVE_ALERT_SUBJECT = "e2e__live_alert.check"


def _expected(conn: psycopg.Connection) -> dict[str, Any]:
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
            "heston": one("SELECT count(*) FROM heston_params WHERE underlying = 'BTC' AND status = 'converged'"),
            "dq_tables": one("SELECT count(DISTINCT table_name) FROM dq_results"),
            "quarantine_tables": one("SELECT count(DISTINCT table_name) FROM quarantine"),
            **_expected_risk(conn, support.PORTFOLIO), **_expected_models(conn), **_expected_alerts(conn)}


def _expected_risk(conn: psycopg.Connection, portfolio: str) -> dict[str, Any]:
    """Marks of every Risk chart, from the risk tables (not the dash_* views the page reads).

    - greeks: one bar per non-zero delta, vega and theta of each position (TOTAL is the KPI row) on the
      latest date;
    - var: 1-day 99 % VaR and ES per method and date (a point each), plus the next-day change of the
      portfolio value of the first method (alphabetically) where a next date exists; markers: every
      (method, date) whose next-day change is a loss beyond VaR (a backtest exception);
    - stress: the TOTAL spot x vol grid of the latest date; expected: one stacked bar per non-zero
      component (carry, theta, convexity, VRP, drift) of each position's latest, shortest-horizon row;
    - payoff: both curves of the first per-underlying total on the latest date.
    """
    one = lambda q, *a: conn.execute(q, a).fetchone()[0]  # noqa: E731
    var = conn.execute(
        "SELECT method, next_value IS NOT NULL, next_value - portfolio_value_usd < -var_usd FROM ("
        " SELECT method, var_usd, portfolio_value_usd,"
        "  lead(portfolio_value_usd) OVER (PARTITION BY method ORDER BY as_of) AS next_value FROM risk_metrics"
        " WHERE portfolio = %s AND horizon_days = 1 AND level = 0.99) m", (portfolio,)).fetchall()
    first = min(m for m, _, _ in var) if var else None
    payoff_id = one("SELECT min(position_id) FROM payoff_curves WHERE portfolio = %s AND position_id LIKE 'TOTAL:%%'"
                    " AND as_of = (SELECT max(as_of) FROM payoff_curves WHERE portfolio = %s)", portfolio, portfolio)
    return {
        "greeks": one("SELECT sum((delta_usd <> 0)::int + (vega_usd <> 0)::int + (theta_usd <> 0)::int)"
                      " FROM position_greeks WHERE portfolio = %s AND position_id <> 'TOTAL'"
                      " AND as_of = (SELECT max(as_of) FROM position_greeks WHERE portfolio = %s)",
                      portfolio, portfolio),
        "var_rows": len(var), "var_dates": one("SELECT count(DISTINCT as_of) FROM risk_metrics WHERE portfolio = %s",
                                               portfolio),
        "var_points": 2 * len(var) + sum(1 for m, has_next, _ in var if m == first and has_next),
        "var_exceptions": sum(1 for _, _, exc in var if exc),
        "stress": one("SELECT count(*) FROM stress_results WHERE portfolio = %s AND position_id = 'TOTAL'"
                      " AND scenario_kind = 'grid' AND as_of = (SELECT max(as_of) FROM stress_results"
                      " WHERE portfolio = %s)", portfolio, portfolio),
        "positions": one("SELECT count(*) FROM positions WHERE portfolio = %s", portfolio),
        "expected": one("SELECT sum((carry_usd <> 0)::int + (theta_usd <> 0)::int + (convexity_usd <> 0)::int"
                        " + (vrp_usd <> 0)::int + (drift_usd <> 0)::int) FROM ("
                        " SELECT DISTINCT ON (position_id) * FROM expected_returns WHERE portfolio = %s"
                        " AND position_id IN (SELECT position_id FROM positions WHERE portfolio = %s)"
                        " ORDER BY position_id, as_of DESC, horizon_days) e", portfolio, portfolio),
        "payoff": one("SELECT count(*) FROM payoff_curves WHERE portfolio = %s AND position_id = %s"
                      " AND as_of = (SELECT max(as_of) FROM payoff_curves WHERE portfolio = %s)",
                      portfolio, payoff_id, portfolio),
        "prob_profit": one("SELECT prob_profit_p FROM expected_returns WHERE portfolio = %s AND position_id = 'TOTAL'"
                           " ORDER BY as_of DESC, horizon_days LIMIT 1", portfolio),
    }


def _expected_models(conn: psycopg.Connection) -> dict[str, Any]:
    """Marks of the forecast chart: every champion variance forecast of the first BTC series (a point at
    its as-of time), plus a realised point where the 1m candles cover every hour of the forecast's
    horizon (realised = hourly returns over the horizon); the champions' versions; the baselines' rows."""
    rows = conn.execute(
        "SELECT f.target, f.model_kind, f.model_version, ("
        "  SELECT count(DISTINCT date_trunc('hour', o.ts)) FROM ohlcv o WHERE o.instrument_id = i.instrument_id"
        "   AND o.timeframe = '1m' AND o.ts >= f.as_of AND o.ts < f.as_of + f.horizon * interval '1 day'"
        " ) >= 24 * f.horizon FROM forecasts f JOIN instruments i USING (exchange, symbol)"
        " WHERE f.target LIKE 'rv%%' AND f.vol_annualised IS NOT NULL AND i.base = 'BTC' AND f.symbol = ("
        "  SELECT min(x.symbol) FROM forecasts x JOIN instruments y USING (exchange, symbol)"
        "  WHERE y.base = 'BTC' AND x.target LIKE 'rv%%')").fetchall()
    evaluations = conn.execute(
        "SELECT count(*) FROM forecast_evaluations e WHERE fold = -1"
        " AND trained_at = (SELECT max(trained_at) FROM forecast_evaluations x WHERE x.target = e.target)").fetchone()
    return {"forecasts": len(rows), "realised": sum(1 for *_, covered in rows if covered),
            "champions": sorted({f"{t}: {k} v{v}" for t, k, v, _ in rows}),
            "evaluations": evaluations[0] if evaluations else 0}


def _expected_alerts(conn: psycopg.Connection) -> dict[str, Any]:
    """The Alerts page: history bars = (UTC day, severity) pairs of the last 30 days of alerts (one stacked
    segment each); the feed lists the newest 100."""
    one = lambda q: conn.execute(q).fetchone()[0]  # noqa: E731
    return {"alerts": one("SELECT count(*) FROM alerts"),
            "alert_bars": one("SELECT count(DISTINCT ((fired_at AT TIME ZONE 'UTC')::date, severity)) FROM alerts"
                              " WHERE fired_at > (SELECT max(fired_at) FROM alerts) - interval '30 days'")}


def test_every_page_draws_the_database_and_sign_in_is_enforced(
        dashboard: support.DashboardServer, database_url: str, sidecar: str, filled: dict[str, int]) -> None:
    with psycopg.connect(database_url) as conn:
        want = _expected(conn)   # before the browser run: it stores one more alert, pushed live
    result = _browse(dashboard, database_url)

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
    assert charts["heston-var"]["points"] == 3 * want["heston"] > 0   # converged fits only
    assert charts["dq-latest"]["points"] >= want["dq_tables"] > 0
    assert charts["quarantine"]["points"] == want["quarantine_tables"] > 0
    assert charts["heston-kr"]["points"] == 2 * want["heston"]
    panels = {(name, p["title"]): p for name, page in pages.items() for p in page["panels"]}

    # Risk: a week of daily risk runs on the test's book
    assert want["var_dates"] == support.RISK_DAYS + 1 and want["positions"] == filled["positions"]
    assert panels[("risk", "Portfolio greeks")]["kpis"] == 5
    assert charts["greeks"]["points"] == want["greeks"] >= want["positions"]  # every position has a delta
    assert charts["var"]["points"] == want["var_points"] > 2 * want["var_dates"]
    assert charts["var"]["markers"] == want["var_exceptions"]
    assert charts["stress"]["points"] == want["stress"] > 0
    assert panels[("risk", "Positions")]["rows"] == want["positions"]
    assert charts["expected"]["points"] == want["expected"] > 0
    assert charts["payoff"]["points"] == want["payoff"] > 0
    assert want["prob_profit"] is not None
    payoff_note = panels[("risk", "Payoff diagram")]["note"]
    shown = math.floor(100 * want["prob_profit"] + 0.5)  # Intl.NumberFormat rounds half away from zero
    assert f"probability of profit {shown} %" in payoff_note, payoff_note

    # Models: the champion's daily forecasts vs realised, its version, the baselines' evaluations
    assert want["forecasts"] == filled["forecasts"] == support.RISK_DAYS
    assert charts["forecasts"]["points"] == want["forecasts"] + want["realised"] and want["realised"] >= 2
    forecast_note = panels[("models", "Volatility forecasts vs realised")]["note"]
    assert all(c in forecast_note for c in want["champions"]) and want["champions"], forecast_note
    evaluations = panels[("models", "Forecast models vs baselines")]["rows"]
    assert evaluations == want["evaluations"] == len(support.FORECAST_TRAINING["kinds"])

    # Alerts: the fill's DQ and pipeline alerts, per day and severity, and the feed
    assert want["alerts"] == filled["alerts"] >= 3
    assert charts["alert-history"]["points"] == want["alert_bars"] >= 3
    feed = panels[("alerts", "Alert feed")]
    assert feed["rows"] - feed["liveRows"] == min(want["alerts"], 100)
    # no Airflow in the test: the pipelines panel degrades to a readable empty state
    assert pages["quality"]["emptyPanels"] >= 1

    ticker = result["ticker"]
    assert ticker["state"] == "connected", ticker
    assert ticker["first"] is not None and ticker["moved"] is not None, ticker
    assert math.isfinite(float(ticker["moved"]["last"]))

    # an alert stored while the Alerts page is open arrives live, on top of the history
    live = result["liveAlert"]
    assert live["state"] == "connected" and live["before"] == 0, live
    assert live["row"] is not None and LIVE_ALERT_SUBJECT in live["row"] and "pushed live" in live["row"], live


def test_data_layer_vitest_against_the_filled_database(dashboard: support.DashboardServer,
                                                       database_url: str) -> None:
    done = subprocess.run(["npx", "vitest", "run", "tests/dataLayer.test.ts"], cwd=support.DASHBOARD_DIR,
                          env=support.node_env(DASHBOARD_DATABASE_URL=dashboard_url(database_url)),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "skipped" not in done.stdout.split("Tests")[-1], done.stdout[-1000:]
