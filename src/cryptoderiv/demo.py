"""The main job, end to end, on the embedded defaults (``make demo`` / ``cryptoderiv demo``).

Database up and migrated, the exchange simulator started, then every stage of the pipeline run through
Airflow (``airflow dags test``, in order, each over its own data interval): instrument catalog, candles,
funding / open interest / futures quotes, option chains (every batch through its quality gate, with a
sprinkle of bad data), the Spark jobs (our IVs and greeks, fitted surfaces), storage upkeep, the Heston
calibration; then the risk stage (daily history, the sample portfolio, VaR/ES, stress, expected return),
the forecasters (trained with their baselines, registered, forecasting) and the daily report, e-mailed to
a local mail catcher; a short run of the streaming sidecar, the backtests, and screenshots of every
dashboard page. The windows end at the last full hour (the demo plays the scheduler). A summary of
everything, with where to look, is returned.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import psycopg
from psycopg import sql

from cryptoderiv.airflow_runtime import AirflowRunError, AirflowRuntime, DagRunOutcome
from cryptoderiv.config import PROJECT_ROOT, ExchangeSource, Settings, get_settings
from cryptoderiv.errors import CryptoderivError
from cryptoderiv.stack.supervisor import free_port, free_ports
from cryptoderiv.storage.database import connect, ensure_database
from cryptoderiv.storage.migrations import migrate

if TYPE_CHECKING:
    from cryptoderiv.quality.results import TableQuality
    from cryptoderiv.risk.jobs import RiskRun
    from cryptoderiv.streaming.service import SidecarSummary

SUMMARY_TABLES = ("instruments", "ohlcv", "ohlcv_1h", "ohlcv_1d", "funding_rates", "open_interest",
                  "futures_quotes", "option_quotes", "option_greeks", "vol_surfaces", "ingest_runs")

# (DAG, logical date as an offset from the last full hour): each run covers the data interval that ends
# at its logical date; the Spark DAGs take the day before theirs, which covers the chain snapshot.
DEMO_STAGES: tuple[tuple[str, pd.Timedelta], ...] = (
    ("market__sync_instruments", pd.Timedelta(0)),
    ("market__ingest_ohlcv", pd.Timedelta(hours=-1)),
    ("market__ingest_ohlcv", pd.Timedelta(0)),
    ("derivs__ingest_funding_oi", pd.Timedelta(0)),
    ("options__snapshot_chains", pd.Timedelta(0)),
    ("options__compute_greeks", pd.Timedelta(hours=1)),
    ("options__fit_surfaces", pd.Timedelta(hours=1)),
    ("maintenance__time_tables", pd.Timedelta(0)),
    ("models__calibrate_heston", pd.Timedelta(hours=1)),
)

#: After the risk stage has loaded the daily history: the forecasters (short demo config) and the report.
MODEL_STAGES: tuple[tuple[str, dict[str, object]], ...] = (
    ("models__train_forecasters", {"config": "demo"}),
    ("models__forecast", {"config": "demo"}),
)


#: The demo's simulator damages a few answers (bad-data mode), so the quality gates have something to catch.
DEMO_BAD_DATA = "negative_price,funding_spike,crossed_book,stale_quote"


class SimulatorStartError(CryptoderivError):
    """The exchange simulator (or the mail catcher) did not come up."""


class DashboardError(CryptoderivError):
    """The dashboard could not be built or photographed."""


@dataclass(frozen=True)
class TableSummary:
    table: str
    rows: int
    first_ts: pd.Timestamp | None
    last_ts: pd.Timestamp | None


@dataclass(frozen=True)
class DemoSummary:
    tables: list[TableSummary]
    dag_runs: list[DagRunOutcome]
    simulator_url: str | None
    quality: list[TableQuality]
    risk: RiskRun | None = None
    evaluation: pd.DataFrame | None = None
    report: dict[str, str] | None = None
    mail_dir: Path | None = None
    stream: SidecarSummary | None = None
    backtests: str | None = None
    screenshots: list[str] | None = None
    mlflow_uri: str | None = None
    mlflow_runs: list[str] | None = None


def run_demo(settings: Settings | None = None,
             progress: Callable[[str], None] = lambda _: None) -> DemoSummary:
    """Run every stage once and return the summary. Re-running the demo for the same hour changes nothing.

    Raises
    ------
    AirflowRunError
        A stage's DAG run did not succeed (the message names it and its log).
    """
    settings = settings or get_settings()
    progress("starting the database")
    url = ensure_database(settings)
    progress("migrating the schema")
    migrate(url, settings)
    last_hour = pd.Timestamp.now(tz="UTC").floor("h")
    started = pd.Timestamp.now(tz="UTC").to_pydatetime()
    runs: list[DagRunOutcome] = []
    with _exchange_source(settings, progress) as (env, simulator_url), _mail_catcher(settings, progress) as mail:
        smtp_port, mail_dir = mail
        airflow = AirflowRuntime(settings.model_copy(update={"smtp_port": smtp_port}), url, extra_env={
            **env, "SMTP_PORT": str(smtp_port), "MLFLOW_TRACKING_URI": settings.resolved_mlflow_uri})
        progress("preparing Airflow's metadata database and pools")
        airflow.migrate()

        def run(dag_id: str, logical_date: pd.Timestamp, conf: dict[str, object] | None = None) -> None:
            progress(f"running {dag_id} for {logical_date.isoformat()} through Airflow")
            outcome = airflow.run_dag(dag_id, logical_date.isoformat(), conf)
            if not outcome.succeeded:
                raise AirflowRunError(f"{dag_id} ended {outcome.state}; see {outcome.log_file}")
            runs.append(outcome)

        for dag_id, offset in DEMO_STAGES:
            run(dag_id, last_hour + offset)
        client: dict[str, Any] = {"source": env["EXCHANGE_SOURCE"]}
        if simulator_url:
            client["simulator_url"] = simulator_url
        risk = _risk_stage(url, client, progress)
        progress("forecasters: loading 120 days of hourly candles and funding")
        from cryptoderiv.forecast.pipeline import ingest_demo_history

        ingest_demo_history(url, last_hour, days=120, simulator_url=simulator_url)
        for dag_id, conf in MODEL_STAGES:
            run(dag_id, last_hour + pd.Timedelta(hours=1), conf)
        run("risk__daily_report", last_hour + pd.Timedelta(hours=1), {"report_date": risk.as_of.isoformat()})
        progress("running the streaming sidecar for 15 s")
        from cryptoderiv.streaming.demo import demo_stream

        stream = demo_stream(15.0, database_url=url, simulator_url=simulator_url)
    from cryptoderiv.quality.results import quality_since  # Great Expectations: import only when needed
    from cryptoderiv.strategy.demo import demo_backtests

    progress("backtesting the strategies and optimising the sample portfolio")
    with connect(url, autocommit=True) as conn:
        backtests = demo_backtests(conn).to_text()
        summary = DemoSummary([_summarise(conn, table) for table in SUMMARY_TABLES], runs, simulator_url,
                              quality_since(conn, started), risk=risk, evaluation=_evaluation(conn),
                              report=_report_files(settings, risk.as_of), mail_dir=mail_dir, stream=stream,
                              backtests=backtests, mlflow_uri=settings.resolved_mlflow_uri,
                              mlflow_runs=_mlflow_links(conn))
    progress("building the dashboard and taking a screenshot of every page")
    return replace(summary, screenshots=_dashboard_screenshots(url, settings.local_dir / "demo" / "screenshots"))


def _risk_stage(url: str, client: dict[str, Any], progress: Callable[[str], None]) -> RiskRun:
    """The daily history, the sample portfolio and its risk (VaR/ES, stress, expected return, backtests)."""
    from cryptoderiv.risk.jobs import run_risk_demo

    progress("risk: loading the daily history, importing examples/portfolio.yaml, computing VaR/ES and stress")
    return run_risk_demo(url, **client)  # its notes (printed with the risk table) name any rolled contract


def _evaluation(conn: psycopg.Connection) -> pd.DataFrame | None:
    """The latest training's walk-forward evaluation over its whole window (``forecast_evaluations``, fold -1)."""
    cur = conn.execute(
        """
        SELECT target, series, model_kind AS model, n, qlike, mse, r2_vs_no_change AS r2_vs_no_change,
               dm_stat AS dm_vs_har, dm_p_value AS dm_p
          FROM forecast_evaluations
         WHERE trained_at = (SELECT max(trained_at) FROM forecast_evaluations) AND fold = -1
         ORDER BY target, series, qlike NULLS LAST, mse
        """)
    rows = cur.fetchall()
    return pd.DataFrame(rows, columns=[c.name for c in cur.description or []]) if rows else None


def _mlflow_links(conn: psycopg.Connection) -> list[str]:
    """UI links to the MLflow runs of this demo: the latest forecaster training and Heston calibrations."""
    from cryptoderiv.tracking import run_url

    ids = [r[0] for r in conn.execute(
        "SELECT DISTINCT mlflow_run_id FROM forecast_evaluations"
        " WHERE trained_at = (SELECT max(trained_at) FROM forecast_evaluations)").fetchall()]
    ids += [r[0] for r in conn.execute(
        "SELECT mlflow_run_id FROM model_runs WHERE mlflow_run_id IS NOT NULL ORDER BY snapshot_ts DESC LIMIT 4")]
    return [run_url(i) for i in ids]


def _report_files(settings: Settings, as_of: object) -> dict[str, str]:
    folder = settings.resolved_reports_dir / str(as_of)
    return {p.suffix.lstrip("."): str(p) for p in sorted(folder.glob("*")) if p.is_file()}


def _dashboard_screenshots(url: str, out: Path) -> list[str]:
    """``scripts/dashboard.sh screenshots``: build, serve read-only, sign in, one screenshot per page."""
    script = PROJECT_ROOT / "scripts" / "dashboard.sh"
    out.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["bash", str(script), "screenshots", url, str(out)], capture_output=True, text=True,
                          timeout=1800, check=False)
    if done.returncode != 0:
        raise DashboardError(f"dashboard screenshots failed: {done.stderr.strip()[-2000:]}")
    return [line.split()[1] for line in done.stdout.splitlines() if line.strip() and len(line.split()) > 1]


@contextmanager
def _mail_catcher(settings: Settings, progress: Callable[[str], None]) -> Iterator[tuple[int, Path]]:
    """A local SMTP catcher for the demo's e-mails (report, data-quality notices); messages kept as .eml."""
    smtp_port, web_port = free_ports(2)
    folder = settings.local_dir / "demo" / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    progress(f"starting the mail catcher on SMTP {smtp_port}")
    log_file = settings.local_dir / "demo" / "mailcatcher.log"
    with log_file.open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "cryptoderiv.stack.mailcatcher", "--smtp-port",
                                   str(smtp_port), "--web-port", str(web_port), "--dir", str(folder)],
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(f"http://127.0.0.1:{web_port}/health", server, log_file)
        yield smtp_port, folder
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def _exchange_source(settings: Settings,
                     progress: Callable[[str], None]) -> Iterator[tuple[dict[str, str], str | None]]:
    """The simulator for the length of the demo (unless EXCHANGE_SOURCE=live), and the DAGs' environment."""
    if settings.exchange_source is ExchangeSource.LIVE:
        yield {"EXCHANGE_SOURCE": "live"}, None
        return
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    progress(f"starting the exchange simulator on {url} (bad-data mode: {DEMO_BAD_DATA})")
    log_file = settings.local_dir / "simulator.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "cryptoderiv.cli", "simulator", "serve", "--port", str(port),
                                   "--bad-data", DEMO_BAD_DATA], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(f"{url}/_sim/health", server, log_file)
        yield {"EXCHANGE_SOURCE": "simulator", "SIMULATOR_URL": url}, url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_healthy(health_url: str, server: subprocess.Popen[bytes], log_file: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SimulatorStartError(f"the exchange simulator exited early; see {log_file}")
        try:
            with urllib.request.urlopen(health_url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SimulatorStartError(f"the exchange simulator did not answer {health_url} within {timeout:.0f}s")


def _summarise(conn: psycopg.Connection, table: str) -> TableSummary:
    has_ts = conn.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = 'ts'", (table,)).fetchone()
    if has_ts:
        query = sql.SQL("SELECT count(*), min(ts), max(ts) FROM {}")
    else:
        query = sql.SQL("SELECT count(*), NULL, NULL FROM {}")
    row = conn.execute(query.format(sql.Identifier(table))).fetchone()
    assert row is not None  # an aggregate always returns a row
    return TableSummary(table, row[0], row[1], row[2])
