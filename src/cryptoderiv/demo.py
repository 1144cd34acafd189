"""The main job, end to end, on the embedded defaults (``make demo`` / ``cryptoderiv demo``).

Today: database up, schema migrated, a generated sample loaded through the storage writer, rollups
refreshed, and a summary of every market table. Each later stage of the platform adds its step here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import psycopg
from psycopg import sql

from cryptoderiv.config import Settings, get_settings
from cryptoderiv.samples import SAMPLE_INSTRUMENTS, sample_candles
from cryptoderiv.storage import write_frame
from cryptoderiv.storage.database import connect, ensure_database
from cryptoderiv.storage.migrations import migrate
from cryptoderiv.storage.rollups import refresh_rollups

SUMMARY_TABLES = ("instruments", "ohlcv", "ohlcv_1h", "ohlcv_1d", "trades", "funding_rates",
                  "open_interest", "futures_quotes", "option_quotes")
DEMO_START = pd.Timestamp("2026-11-01T00:00:00Z")
DEMO_MINUTES = 24 * 60


@dataclass(frozen=True)
class TableSummary:
    table: str
    rows: int
    first_ts: pd.Timestamp | None
    last_ts: pd.Timestamp | None


def run_demo(settings: Settings | None = None,
             progress: Callable[[str], None] = lambda _: None) -> list[TableSummary]:
    """Run every stage once and return the per-table summary. Idempotent: a second run changes nothing."""
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
    progress("refreshing the 1h/1d rollups")
    refresh_rollups(url)
    with connect(url, autocommit=True) as conn:
        return [_summarise(conn, table) for table in SUMMARY_TABLES]


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
