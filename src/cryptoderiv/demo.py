"""The main job, end to end, on the embedded defaults (``make demo`` / ``cryptoderiv demo``).

Today: database up, schema migrated, a generated sample loaded through the storage writer, then the
pipeline's DAGs run through Airflow (``airflow dags test``; today the storage upkeep that refreshes the
rollups), and a summary of every market table. Each later stage of the platform adds its DAGs here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import psycopg
from psycopg import sql

from cryptoderiv.airflow_runtime import AirflowRunError, AirflowRuntime, DagRunOutcome
from cryptoderiv.config import Settings, get_settings
from cryptoderiv.samples import SAMPLE_INSTRUMENTS, sample_candles
from cryptoderiv.storage import write_frame
from cryptoderiv.storage.database import connect, ensure_database
from cryptoderiv.storage.migrations import migrate

SUMMARY_TABLES = ("instruments", "ohlcv", "ohlcv_1h", "ohlcv_1d", "trades", "funding_rates",
                  "open_interest", "futures_quotes", "option_quotes")
DEMO_START = pd.Timestamp("2026-11-01T00:00:00Z")
DEMO_MINUTES = 24 * 60
DEMO_LOGICAL_DATE = "2026-11-02T00:00:00+00:00"
DEMO_DAGS = ("maintenance__time_tables",)  # each stage of the platform adds its DAGs here, in order


@dataclass(frozen=True)
class DemoSummary:
    tables: list[TableSummary]
    dag_runs: list[DagRunOutcome]


@dataclass(frozen=True)
class TableSummary:
    table: str
    rows: int
    first_ts: pd.Timestamp | None
    last_ts: pd.Timestamp | None


def run_demo(settings: Settings | None = None,
             progress: Callable[[str], None] = lambda _: None) -> DemoSummary:
    """Run every stage once and return the summary. Idempotent: a second run changes nothing.

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
    with connect(url) as conn:
        progress("loading the instrument catalog")
        write_frame(conn, "instruments", SAMPLE_INSTRUMENTS)
        progress(f"loading {DEMO_MINUTES} 1m candles per instrument")
        write_frame(conn, "ohlcv", sample_candles(SAMPLE_INSTRUMENTS, DEMO_START, DEMO_MINUTES))
        conn.commit()
    airflow = AirflowRuntime(settings, url)
    progress("preparing Airflow's metadata database")
    airflow.migrate()
    runs = []
    for dag_id in DEMO_DAGS:
        progress(f"running {dag_id} through Airflow")
        outcome = airflow.run_dag(dag_id, DEMO_LOGICAL_DATE)
        if not outcome.succeeded:
            raise AirflowRunError(f"{dag_id} ended {outcome.state}; see {outcome.log_file}")
        runs.append(outcome)
    with connect(url, autocommit=True) as conn:
        return DemoSummary([_summarise(conn, table) for table in SUMMARY_TABLES], runs)


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
