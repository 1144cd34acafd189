"""Fill a database for the dashboard tests through the real pipeline, and run the production build.

:func:`fill_market_database` loads the exchange simulator's data with the ingestion pipelines
(:mod:`cryptoderiv.ingest.pipelines`), takes option-chain snapshots at several simulator times (now,
1 day, 1 week and 1 month earlier, for the term-structure time-lapse and the skew history), computes our
IVs/greeks and SVI surfaces with the pandas twins of the Spark jobs, sends one candle batch through the
data-quality gate with a broken row (so validation results and quarantine counts exist), refreshes the
rollups and calibrates Heston on the latest snapshot.

:class:`DashboardServer` builds the Next.js app once per content hash of its sources (cached under
``.local/dashboard-build``) and serves it with ``next start`` on a free port.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from psycopg import sql

from cryptoderiv.config import PROJECT_ROOT, get_settings
from cryptoderiv.features.option_greeks import compute_option_greeks
from cryptoderiv.features.vol_surface import fit_vol_surfaces, surface_metrics
from cryptoderiv.storage.database import connect
from cryptoderiv.storage.rollups import refresh_rollups
from cryptoderiv.storage.writer import write_frame
from cryptoderiv.stack.supervisor import free_port

log = logging.getLogger(__name__)

DASHBOARD_DIR = PROJECT_ROOT / "dashboard"
DAY = pd.Timedelta(days=1)

#: what the e2e test signs in with (the hash below is made at run time from this password)
TEST_USER = "trader"
TEST_PASSWORD = "correct horse battery staple"


@dataclass
class MutableClock:
    """The simulator's present (ms UTC), moved by the test between snapshots."""

    now_ms: int

    def __call__(self) -> int:
        return self.now_ms


def _option_inputs(conn: object) -> pd.DataFrame:
    rows = conn.execute(  # type: ignore[attr-defined]
        "SELECT q.instrument_id, q.ts, i.option_type, i.strike, i.is_inverse, q.bid, q.ask, q.mark,"
        " q.underlying_price, q.time_to_expiry, q.index_price, i.exchange, i.base, i.expiry"
        " FROM option_quotes q JOIN instruments i USING (instrument_id)").fetchall()
    cols = ["instrument_id", "ts", "option_type", "strike", "is_inverse", "bid", "ask", "mark", "underlying_price",
            "time_to_expiry", "index_price", "exchange", "base", "expiry"]
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("ts", "expiry"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    return frame


def compute_option_features(url: str) -> dict[str, int]:
    """Our greeks and the SVI surfaces for every stored chain snapshot (pandas twins of the Spark jobs)."""
    with connect(url) as conn:
        inputs = _option_inputs(conn)
        # one snapshot = one chain fetch; its quotes carry (nearly) the same ts: group to the minute
        greeks = compute_option_greeks(inputs)
        write_frame(conn, "option_greeks", greeks)
        surf_in = inputs[["instrument_id", "ts", "exchange", "base", "expiry", "option_type", "index_price"]].merge(
            greeks, on=["instrument_id", "ts"])
        surf_in["ts"] = surf_in["ts"].dt.floor("min")
        slices = fit_vol_surfaces(surf_in)
        write_frame(conn, "vol_surfaces", slices)
        metrics = surface_metrics(slices)
        write_frame(conn, "vol_surface_metrics", metrics)
        conn.commit()
    return {"option_greeks": len(greeks), "vol_surfaces": len(slices), "vol_surface_metrics": len(metrics)}


def fill_market_database(url: str, server_factory: Callable[[MutableClock], object], now: pd.Timestamp,
                         days_of_candles: int = 2) -> dict[str, int]:
    """Load the simulator's market into ``url`` through the real pipelines; return row counts per table.

    ``server_factory(clock)`` returns a started-able :class:`cryptoderiv.simulator.SimulatorServer`
    (a context manager) whose present is ``clock``.
    """
    from cryptoderiv.ingest import pipelines

    clock = MutableClock(int(now.value // 1_000_000))
    end = now.floor("h")
    start = end - days_of_candles * DAY
    with server_factory(clock) as sim:  # type: ignore[attr-defined]
        client = {"source": "simulator", "simulator_url": sim.url}
        pipelines.sync_catalog(url, "binance", "dash-1", end, kinds=["spot", "perpetual"], **client)
        pipelines.ingest_ohlcv(url, "binance", ["BTC/USDT"], "1m", start, end, "dash-1", **client)
        pipelines.ingest_ohlcv(url, "binance", ["BTC/USDT:USDT"], "1m", start, end, "dash-1", **client)
        _gate_candles(url, sim.url, start, end)
        pipelines.ingest_funding(url, "binance", "BTC/USDT:USDT", end - 30 * DAY, end, "dash-1", **client)
        for back in (30 * DAY, 7 * DAY, DAY, pd.Timedelta(hours=6), pd.Timedelta(0)):
            clock.now_ms = int((now - back).value // 1_000_000)
            t = now - back
            # the catalog as of each snapshot: dated futures list and expire over the month
            pipelines.sync_catalog(url, "deribit", "dash-2", t, kinds=["perpetual", "future"], **client)
            pipelines.ingest_futures_quotes(url, "deribit", "BTC", t - pd.Timedelta(hours=1), t, "dash-2", **client)
            pipelines.ingest_option_chain(url, "deribit", "BTC", t - pd.Timedelta(hours=1), t, "dash-2", expiries=4,
                                          **client)
        pipelines.ingest_funding(url, "deribit", "BTC/USD:BTC", end - 7 * DAY, end, "dash-1", **client)
    counts = compute_option_features(url)
    refresh_rollups(url)
    _calibrate(url, now)
    with connect(url) as conn:
        for table in ("ohlcv", "funding_rates", "futures_quotes", "option_quotes", "dq_results", "quarantine"):
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


def _gate_candles(url: str, simulator_url: str, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """ETH candles through the data-quality gate, one row broken (high below low): it is quarantined."""
    from cryptoderiv.exchanges import fetch as exchange_fetch
    from cryptoderiv.ingest.pipelines import INSTRUMENT_ATTRIBUTES
    from cryptoderiv.quality.gate import audit_and_publish

    result = exchange_fetch.fetch_ohlcv("binance", ["ETH/USDT"], "1m", start, end, source="simulator",
                                        simulator_url=simulator_url)
    frame = result.frame.drop(columns=[c for c in INSTRUMENT_ATTRIBUTES if c in result.frame.columns]).copy()
    frame.loc[frame.index[5], "high"] = frame.loc[frame.index[5], "low"] * 0.5
    audit_and_publish(url, "ohlcv", frame, "dash-gate-1", window=(start, end), build_docs=False,
                      raise_on_rejection=False)


#: the portfolio the risk stage runs on in the dashboard test (the only one in ``positions``)
PORTFOLIO = "dashboard"
#: days of risk history (VaR/ES per day, next-day P&L, backtest exceptions): the as-of dates run
RISK_DAYS = 7
#: a tiny forecasting set-up: one target, the three cheapest baselines, a short walk-forward
FORECAST_TRAINING: dict[str, Any] = {"targets": ("rv_1d",), "kinds": ("no_change", "ewma", "har"), "test_periods": 10,
                     "refit_every": 5, "min_train_periods": 55, "experiment": "dashboard-e2e",
                     "model_prefix": "dashboard-e2e-forecast"}


def fill_models_risk_alerts(url: str, server_factory: Callable[[MutableClock], object], now: pd.Timestamp,
                            book_dir: Path) -> dict[str, int]:
    """After :func:`fill_market_database`: history, forecasts, the risk stage and alerts, all through the
    library, so the Models, Risk and Alerts pages have data. Returns counts of what was written.

    - History: 90 days of Binance BTC/USDT daily and hourly candles and 3 more days of 1m candles
      (realised vol behind the forecasts), from the same simulator (seed, clock at ``now``).
    - Forecasts: :func:`cryptoderiv.forecast.training.train_from_database` with
      :data:`FORECAST_TRAINING` (MLflow store: whatever ``MLFLOW_TRACKING_URI`` names; the caller points
      it at a temporary directory) ``RISK_DAYS - 1`` days before ``now``, then
      :func:`cryptoderiv.forecast.pipeline.forecast_from_database` once per day up to ``now``.
    - Risk: a portfolio of instruments quoted in every snapshot of the last week (spot, Deribit inverse
      perpetual and future, a short call and a long put), imported with
      :func:`cryptoderiv.risk.jobs.import_portfolio`, then :func:`cryptoderiv.risk.jobs.compute_risk` for
      each of the last ``RISK_DAYS + 1`` UTC days (small Monte Carlo).
    - Alerts: :func:`cryptoderiv.alerts.evaluate_dq_alerts` for the quarantining gate run of the market fill
      (the gate may have fired them already: then the cool-down keeps one of each) and two
      :func:`cryptoderiv.alerts.raise_pipeline_alert` on earlier days; e-mails go to the configured SMTP
      server. ``counts["alerts"]`` is the number of rows in ``alerts`` afterwards.
    """
    from cryptoderiv.alerts import evaluate_dq_alerts, raise_pipeline_alert
    from cryptoderiv.forecast.pipeline import forecast_from_database
    from cryptoderiv.forecast.training import DEFAULT_SOURCES, TrainingConfig, train_from_database
    from cryptoderiv.ingest import pipelines
    from cryptoderiv.risk.jobs import compute_risk, import_portfolio

    counts: dict[str, int] = {}
    clock = MutableClock(int(now.value // 1_000_000))
    today = now.normalize()
    with server_factory(clock) as sim:  # type: ignore[attr-defined]
        client = {"source": "simulator", "simulator_url": sim.url}
        for timeframe, days, page in (("1d", 90, 30), ("1h", 90, 30)):
            start = today - days * DAY
            while start < today:  # the simulator builds long bars from minute paths: ask in pages
                stop = min(start + page * DAY, today)
                pipelines.ingest_ohlcv(url, "binance", ["BTC/USDT"], timeframe, start, stop, "dash-3", **client)
                start = stop
        pipelines.ingest_ohlcv(url, "binance", ["BTC/USDT"], "1m", now - 5 * DAY, now - 2 * DAY, "dash-3", **client)
    refresh_rollups(url)

    config = TrainingConfig(**FORECAST_TRAINING)
    sources = {t: DEFAULT_SOURCES[t][:1] for t in config.targets}  # BTC/USDT only
    train_from_database(url, today - (RISK_DAYS - 1) * DAY, config, sources)
    counts["forecasts"] = sum(forecast_from_database(url, today - k * DAY, config, sources).rows
                              for k in range(RISK_DAYS - 1, -1, -1))

    book = _risk_book(url, now, book_dir / "dashboard-book.yaml")
    counts["positions"] = import_portfolio(url, book)
    for k in range(RISK_DAYS, -1, -1):
        compute_risk(url, PORTFOLIO, (now - k * DAY).date(), mc_paths=2000)
    counts["risk_days"] = RISK_DAYS + 1

    with connect(url) as conn:
        evaluate_dq_alerts(conn, "dash-gate-1")
    for back, subject in ((2 * DAY, "risk__compute.compute"), (5 * DAY, "ingest__option_chains.ingest")):
        raise_pipeline_alert(subject, "task failed (raised by the dashboard test)", database_url=url,
                             fired_at=(now - back).to_pydatetime())
    with connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM alerts").fetchone()
        counts["alerts"] = int(row[0]) if row else 0
    return counts


def _risk_book(url: str, now: pd.Timestamp, path: Path) -> Path:
    """A BTC book of instruments quoted in every stored snapshot since ``now - RISK_DAYS`` days (so every
    as-of date of the risk history can value it), entry prices from the first of those snapshots."""
    since = now - RISK_DAYS * DAY
    with connect(url) as conn:
        first = conn.execute("SELECT min(ts) FROM option_quotes WHERE ts >= %s", (since,)).fetchone()
        if first is None or first[0] is None:
            raise RuntimeError(f"no option snapshot since {since}: the market fill did not run")
        always = ("(SELECT count(DISTINCT ts) FROM {t} x WHERE x.instrument_id = i.instrument_id AND x.ts >= %(f)s)"
                  " = (SELECT count(DISTINCT ts) FROM {t} WHERE ts >= %(f)s)")
        options = conn.execute(
            "SELECT i.symbol, i.option_type, i.strike, i.expiry, q.underlying_price, q.mark"
            " FROM instruments i JOIN option_quotes q USING (instrument_id)"
            " WHERE i.exchange = 'deribit' AND i.base = 'BTC' AND q.ts = %(f)s AND q.mark > 0 AND q.mark_iv > 0"
            " AND i.expiry > %(now)s + interval '7 days' AND " + always.format(t="option_quotes")
            + " ORDER BY i.expiry, i.strike", {"f": first[0], "now": now}).fetchall()
        future = conn.execute(
            "SELECT i.symbol, q.mark_price FROM instruments i JOIN futures_quotes q USING (instrument_id)"
            " WHERE i.exchange = 'deribit' AND i.base = 'BTC' AND i.kind = 'future' AND q.ts = %(f)s"
            " AND i.expiry > %(now)s + interval '7 days' AND " + always.format(t="futures_quotes")
            + " ORDER BY i.expiry LIMIT 1", {"f": first[0], "now": now}).fetchone()
        perp = conn.execute(
            "SELECT q.mark_price FROM instruments i JOIN futures_quotes q USING (instrument_id)"
            " WHERE i.exchange = 'deribit' AND i.symbol = 'BTC/USD:BTC' AND q.ts = %s", (first[0],)).fetchone()
    if not options or future is None or perp is None:
        raise RuntimeError(f"no Deribit option/future/perpetual quoted in every snapshot since {first[0]}")
    chain = pd.DataFrame(options, columns=["symbol", "option_type", "strike", "expiry", "forward", "mark"])
    chain = chain[chain["expiry"] == chain["expiry"].min()]
    forward = float(chain["forward"].iloc[0])

    def nearest(kind: str, strike: float) -> tuple[str, float]:
        side = chain[chain["option_type"] == kind]
        row = side.iloc[int((side["strike"] - strike).abs().to_numpy().argmin())]
        return str(row["symbol"]), float(row["mark"])

    call, call_mark = nearest("call", 1.1 * forward)
    put, put_mark = nearest("put", 0.9 * forward)
    positions = [
        {"id": "btc-spot", "exchange": "binance", "symbol": "BTC/USDT", "size": 1.5, "entry_price": round(forward, 2)},
        {"id": "btc-perp-inv", "exchange": "deribit", "symbol": "BTC/USD:BTC", "size": -50000,
         "entry_price": round(float(perp[0]), 2)},
        {"id": "btc-fut-inv", "exchange": "deribit", "symbol": str(future[0]), "size": 30000,
         "entry_price": round(float(future[1]), 2)},
        {"id": "btc-call-short", "exchange": "deribit", "symbol": call, "size": -2, "entry_price": call_mark},
        {"id": "btc-put-long", "exchange": "deribit", "symbol": put, "size": 3, "entry_price": put_mark},
    ]
    path.write_text(yaml.safe_dump({"portfolio": PORTFOLIO, "positions": positions}, sort_keys=False))
    return path


def _calibrate(url: str, now: pd.Timestamp) -> None:
    """Heston on the stored snapshots (no MLflow); other helpers own it, so a failure only logs."""
    try:
        from cryptoderiv.calibration.runner import run_calibrations

        run_calibrations(url, now - 31 * DAY, now + pd.Timedelta(minutes=1), underlyings=["BTC"],
                         exchanges=["deribit"], track=False)
    except Exception as exc:  # noqa: BLE001 - the Models page then shows its empty state; the test compares
        log.warning("Heston calibration unavailable for the dashboard test: %s", exc)


# ---------------------------------------------------------------------------------------------- serving


def source_hash() -> str:
    """sha256 over the dashboard's sources and lockfile: the build is redone only when one changes."""
    digest = hashlib.sha256()
    skip = {"node_modules", ".next", "test-results", "e2e"}
    for path in sorted(DASHBOARD_DIR.rglob("*")):
        rel = path.relative_to(DASHBOARD_DIR)
        if rel.parts[0] in skip or not path.is_file() or rel.parts[0] == "tests":
            continue
        digest.update(str(rel).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def node_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DASHBOARD_", "AIRFLOW__"))}
    env.update({"NEXT_TELEMETRY_DISABLED": "1", **extra})
    return env


def ensure_node_modules() -> None:
    if not (DASHBOARD_DIR / "node_modules" / ".package-lock.json").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=DASHBOARD_DIR, check=True, env=node_env())


def ensure_build() -> Path:
    """``next build`` unless a build of the same sources exists; returns the .next folder in use."""
    ensure_node_modules()
    stamp = DASHBOARD_DIR / ".next" / "cryptoderiv-source-hash"
    wanted = source_hash()
    if stamp.exists() and stamp.read_text() == wanted and (DASHBOARD_DIR / ".next" / "BUILD_ID").exists():
        return DASHBOARD_DIR / ".next"
    cache = get_settings().local_dir / "dashboard-build" / wanted
    if (cache / "BUILD_ID").exists():
        shutil.rmtree(DASHBOARD_DIR / ".next", ignore_errors=True)
        shutil.copytree(cache, DASHBOARD_DIR / ".next", symlinks=True)
        return DASHBOARD_DIR / ".next"
    subprocess.run(["npx", "next", "build"], cwd=DASHBOARD_DIR, check=True, env=node_env(), timeout=900,
                   stdout=subprocess.DEVNULL)
    stamp.write_text(wanted)
    shutil.rmtree(cache.parent, ignore_errors=True)
    shutil.copytree(DASHBOARD_DIR / ".next", cache, symlinks=True,
                    ignore=shutil.ignore_patterns("cache"))
    return DASHBOARD_DIR / ".next"


def scrypt_hash(password: str) -> str:
    """The DASHBOARD_USERS hash format (scrypt$N$r$p$salt$hash, base64), made with Python's hashlib."""
    import base64

    salt = os.urandom(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=16384, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


@dataclass
class DashboardServer:
    """``next start`` of the production build against a read-only database URL."""

    database_url: str
    stream_url: str
    airflow_url: str = "http://127.0.0.1:9"  # discard port: "Airflow not running" unless told otherwise
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log_dir: Path) -> DashboardServer:
        self.port = self.port or free_port()
        self.log_path = log_dir / "next-start.log"
        env = node_env(
            PORT=str(self.port), DASHBOARD_DATABASE_URL=self.database_url, STREAM_URL=self.stream_url,
            AIRFLOW_URL=self.airflow_url,
            DASHBOARD_USERS=json.dumps({TEST_USER: scrypt_hash(TEST_PASSWORD)}),
            DASHBOARD_SESSION_SECRET=hashlib.sha256(os.urandom(32)).hexdigest(),
        )
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(["npx", "next", "start", "-H", "127.0.0.1", "-p", str(self.port)],
                                            cwd=DASHBOARD_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"next start exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/health", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"dashboard did not become healthy: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
