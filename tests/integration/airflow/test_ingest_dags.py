"""The ingestion DAGs run for real (``dag.test()``) against the simulator and the test database."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from cryptoderiv.config import get_settings
from cryptoderiv.ingest import pipelines
from cryptoderiv.ingest.universe import CANDLE_SYMBOLS
from cryptoderiv.simulator import SimulatorServer

DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"
DAY_MS = 86_400_000
DAY_START = (int(time.time() * 1000) // DAY_MS - 2) * DAY_MS
T0 = pd.Timestamp(DAY_START, unit="ms", tz="UTC")


@pytest.fixture(scope="module")
def simulator(airflow_env: Path) -> Iterator[SimulatorServer]:
    """A simulator whose present is pinned at the end of the test day; the DAGs reach it through settings."""
    with SimulatorServer(seed=5, clock=lambda: DAY_START + DAY_MS) as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXCHANGE_SOURCE", "simulator")
        mp.setenv("SIMULATOR_URL", server.url)
        get_settings.cache_clear()
        yield server
    get_settings.cache_clear()


def run(dag_id: str, logical_date: pd.Timestamp):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag(dag_id)
    result = dag.test(logical_date=logical_date.to_pydatetime())
    assert result.state == "success", [(ti.task_id, ti.map_index, ti.state) for ti in result.get_task_instances()]
    return result


def checksum(conn: psycopg.Connection, query: str) -> tuple[int, str]:
    rows = conn.execute(query).fetchall()
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def test_catalog_then_hourly_candles_equal_one_backfill_of_the_same_window(
        simulator: SimulatorServer, database_url: str, db: psycopg.Connection) -> None:
    run("market__sync_instruments", T0)
    assert db.execute("SELECT count(DISTINCT exchange) FROM instruments").fetchone() == (3,)
    # Two incremental hourly runs ...
    run("market__ingest_ohlcv", T0 + pd.Timedelta(hours=1))
    run("market__ingest_ohlcv", T0 + pd.Timedelta(hours=2))
    n_symbols = sum(len(s) for s in CANDLE_SYMBOLS.values())
    assert db.execute("SELECT count(*) FROM ohlcv").fetchone() == (n_symbols * 120,)
    query = ("SELECT i.exchange, i.symbol, o.ts, o.open, o.high, o.low, o.close, o.volume FROM ohlcv o"
             " JOIN instruments i USING (instrument_id) ORDER BY 1, 2, 3")
    incremental = checksum(db, query)
    # ... and one two-hour backfill of the same window give the same table.
    db.execute("TRUNCATE ohlcv")
    db.commit()
    for venue, symbols in CANDLE_SYMBOLS.items():
        pipelines.ingest_ohlcv(database_url, venue, list(symbols), "1m", T0, T0 + pd.Timedelta(hours=2), "backfill",
                               source="simulator", simulator_url=simulator.url)
    assert checksum(db, query) == incremental
    runs = db.execute("SELECT count(*) FROM ingest_runs WHERE dataset = 'ohlcv' AND status = 'succeeded'").fetchone()
    assert runs[0] >= 2 * len(CANDLE_SYMBOLS)


def test_derivatives_and_option_chain_dags(simulator: SimulatorServer, db: psycopg.Connection) -> None:
    run("market__sync_instruments", T0)
    run("derivs__ingest_funding_oi", T0 + pd.Timedelta(hours=1))
    funding = dict(db.execute("SELECT i.exchange, count(*) FROM funding_rates f JOIN instruments i"
                              " USING (instrument_id) GROUP BY 1").fetchall())
    assert funding["deribit"] == 2 * 1  # hourly interest, two perpetuals, one hour
    assert db.execute("SELECT count(DISTINCT instrument_id) FROM open_interest").fetchone()[0] == 6
    assert db.execute("SELECT count(*) FROM futures_quotes").fetchone()[0] >= 6
    run("options__snapshot_chains", T0 + pd.Timedelta(hours=1))
    per_venue = dict(db.execute("SELECT i.exchange, count(*) FROM option_quotes q JOIN instruments i"
                                " USING (instrument_id) GROUP BY 1").fetchall())
    assert per_venue["deribit"] >= 2 * 8 * 15 and per_venue["bybit"] >= 2 * 8 * 15
