"""The main job, end to end, on the embedded defaults (``make demo`` / ``cryptoderiv demo``).

Database up and migrated, the exchange simulator started, then every stage of the pipeline run through
Airflow (``airflow dags test``, in order, each over its own data interval): instrument catalog, candles,
funding / open interest / futures quotes, option chains, the Spark jobs (our IVs and greeks, fitted
surfaces), storage upkeep. The windows end at the last full hour (the demo plays the scheduler). A
summary of every table and of the DAG runs is returned. Each later stage of the platform adds its DAGs
to :data:`DEMO_STAGES`.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import psycopg
from psycopg import sql

from cryptoderiv.airflow_runtime import AirflowRunError, AirflowRuntime, DagRunOutcome
from cryptoderiv.config import ExchangeSource, Settings, get_settings
from cryptoderiv.errors import CryptoderivError
from cryptoderiv.storage.database import connect, ensure_database
from cryptoderiv.storage.migrations import migrate

if TYPE_CHECKING:
    from cryptoderiv.quality.results import TableQuality

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
)


#: The demo's simulator damages a few answers (bad-data mode), so the quality gates have something to catch.
DEMO_BAD_DATA = "negative_price,funding_spike,crossed_book,stale_quote"


class SimulatorStartError(CryptoderivError):
    """The exchange simulator did not come up."""


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
    with _exchange_source(settings, progress) as (env, simulator_url):
        airflow = AirflowRuntime(settings, url, extra_env=env)
        progress("preparing Airflow's metadata database and pools")
        airflow.migrate()
        runs = []
        for dag_id, offset in DEMO_STAGES:
            logical_date = (last_hour + offset).isoformat()
            progress(f"running {dag_id} for {logical_date} through Airflow")
            outcome = airflow.run_dag(dag_id, logical_date)
            if not outcome.succeeded:
                raise AirflowRunError(f"{dag_id} ended {outcome.state}; see {outcome.log_file}")
            runs.append(outcome)
    from cryptoderiv.quality.results import quality_since  # Great Expectations: import only when needed

    with connect(url, autocommit=True) as conn:
        return DemoSummary([_summarise(conn, table) for table in SUMMARY_TABLES], runs, simulator_url,
                           quality_since(conn, started))


@contextmanager
def _exchange_source(settings: Settings,
                     progress: Callable[[str], None]) -> Iterator[tuple[dict[str, str], str | None]]:
    """The simulator for the length of the demo (unless EXCHANGE_SOURCE=live), and the DAGs' environment."""
    if settings.exchange_source is ExchangeSource.LIVE:
        yield {"EXCHANGE_SOURCE": "live"}, None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
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
