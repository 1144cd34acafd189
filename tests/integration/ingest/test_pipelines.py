"""The ingestion pipelines against the exchange simulator (real ccxt) and the test database."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pandas as pd
import psycopg
import pytest

from cryptoderiv.ingest import pipelines
from cryptoderiv.simulator import SimulatorServer

DAY_MS = 86_400_000
DAY_START = (int(time.time() * 1000) // DAY_MS - 2) * DAY_MS  # the day before yesterday: complete, in the past
T0 = pd.Timestamp(DAY_START, unit="ms", tz="UTC")
NOW_MS = DAY_START + DAY_MS  # the simulator's present, pinned: snapshots are then deterministic


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=11, clock=lambda: NOW_MS) as server:
        yield server


@pytest.fixture()
def client(sim: SimulatorServer) -> dict[str, str]:
    return {"source": "simulator", "simulator_url": sim.url}


def checksum(conn: psycopg.Connection, table: str) -> str:
    rows = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_candles_match_the_simulators_truth_and_a_rerun_changes_nothing(
        database_url: str, db: psycopg.Connection, sim: SimulatorServer, client: dict[str, str]) -> None:
    catalog = pipelines.sync_catalog(database_url, "binance", "run-1", T0, kinds=["spot", "perpetual"], **client)
    assert catalog.catalog is not None and catalog.catalog.new >= 4
    start, end = T0, T0 + pd.Timedelta(hours=3)
    first = pipelines.ingest_ohlcv(database_url, "binance", ["BTC/USDT", "ETH/USDT"], "1m", start, end, "run-1",
                                   **client)
    assert (first.rows_fetched, first.rows_changed, first.missing, first.duplicates) == (360, 360, 0, 0)
    truth = sim.market.candles(sim.market.instrument_by_symbol("binance", "BTC/USDT", NOW_MS), "1m",
                               DAY_START, DAY_START + 3 * 3_600_000 - 1).frame()
    stored = pd.DataFrame(db.execute(
        "SELECT o.ts, o.open, o.high, o.low, o.close, o.volume FROM ohlcv o JOIN instruments i USING (instrument_id)"
        " WHERE i.symbol = 'BTC/USDT' AND i.exchange = 'binance' ORDER BY o.ts").fetchall(),
        columns=["ts", "open", "high", "low", "close", "volume"])
    assert len(stored) == 180
    for column in ("open", "high", "low", "close", "volume"):
        assert stored[column].tolist() == truth[column].tolist(), column
    before = checksum(db, "ohlcv")
    again = pipelines.ingest_ohlcv(database_url, "binance", ["BTC/USDT", "ETH/USDT"], "1m", start, end, "run-1",
                                   **client)
    assert again.rows_changed == 0 and checksum(db, "ohlcv") == before
    lineage = db.execute("SELECT dataset, rows_written, landing_path FROM ingest_runs WHERE run_id = 'run-1'"
                         " AND dataset = 'ohlcv'").fetchall()
    assert lineage[0][1] == {"ohlcv": 0} and lineage[0][2].endswith("binance.parquet")


def test_derivatives_datasets_land_in_their_tables(database_url: str, db: psycopg.Connection,
                                                    client: dict[str, str]) -> None:
    start, end = T0, T0 + pd.Timedelta(days=1)
    pipelines.sync_catalog(database_url, "deribit", "run-2", end, kinds=["perpetual", "future"], **client)
    funding = pipelines.ingest_funding(database_url, "deribit", "BTC/USD:BTC", start, end, "run-2", **client)
    assert funding.rows_changed == 24 and funding.missing == 0  # Deribit: hourly interest
    futures = pipelines.ingest_futures_quotes(database_url, "deribit", "BTC", start, end, "run-2", **client)
    assert futures.rows_changed >= 4  # the perpetual and the dated futures
    chain = pipelines.ingest_option_chain(database_url, "deribit", "BTC", start, end, "run-2", expiries=1, **client)
    assert chain.rows_changed >= 30
    row = db.execute("SELECT premium_currency, mark_iv, time_to_expiry FROM option_quotes LIMIT 1").fetchone()
    assert row[0] == "BTC" and 0 < row[1] < 5 and row[2] > 0
    with pytest.raises(ValueError, match="timezone-aware"):
        pipelines.ingest_funding(database_url, "deribit", "BTC/USD:BTC", "2026-11-01", end, "run-2", **client)
