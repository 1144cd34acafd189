"""The quality gate inside the ingest DAGs: a damaged batch is partly quarantined, the task still succeeds,
and the data-quality notice (with the Data Docs link) reaches the mailbox through Airflow's SMTP connection."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from cryptoderiv.config import get_settings
from cryptoderiv.ingest import pipelines
from cryptoderiv.simulator import SimulatorServer

DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"
DAY_MS = 86_400_000
DAY_START = (int(time.time() * 1000) // DAY_MS - 2) * DAY_MS
T0 = pd.Timestamp(DAY_START, unit="ms", tz="UTC")


@pytest.fixture(scope="module")
def bad_simulator(airflow_env: Path) -> Iterator[SimulatorServer]:
    with (SimulatorServer(seed=5, clock=lambda: DAY_START + DAY_MS, bad_data="negative_price") as server,
          pytest.MonkeyPatch.context() as mp):
        mp.setenv("EXCHANGE_SOURCE", "simulator")
        mp.setenv("SIMULATOR_URL", server.url)
        get_settings.cache_clear()
        yield server
    get_settings.cache_clear()


def test_a_negative_price_is_quarantined_published_around_and_notified(
        bad_simulator: SimulatorServer, database_url: str, db: psycopg.Connection, smtp_server) -> None:
    from airflow.dag_processing.dagbag import DagBag

    for venue in ("binance", "bybit", "deribit"):
        pipelines.sync_catalog(database_url, venue, "catalog", T0, kinds=["spot", "perpetual"],
                               source="simulator", simulator_url=bad_simulator.url)
    before = len(smtp_server.messages)
    dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag("market__ingest_ohlcv")
    result = dag.test(logical_date=(T0 + pd.Timedelta(hours=1)).to_pydatetime())
    assert result.state == "success"

    damaged = [r for r in bad_simulator.ctx.bad_data.records() if r["defect"] == "negative_price"]
    assert damaged
    held = db.execute("SELECT rule, row_data->>'symbol' FROM quarantine WHERE table_name = 'ohlcv'"
                      " AND run_id LIKE %s", (f"{result.run_id}.%",)).fetchall()
    # a negative close also breaks low <= close: one row, two reasons
    assert {rule for rule, _ in held} <= {"ohlcv.close_positive", "ohlcv.close_ge_low"}
    assert db.execute("SELECT count(*) FROM ohlcv WHERE close <= 0").fetchone() == (0,)
    per_symbol = db.execute("SELECT count(*) FROM ohlcv o JOIN instruments i USING (instrument_id)"
                            " WHERE i.exchange = 'binance' GROUP BY i.symbol").fetchall()
    # one damaged bar per Binance answer (spot and perpetual), kept out; the other 59 of the hour published
    assert sum(rule == "ohlcv.close_positive" for rule, _ in held) == len(per_symbol) >= len(damaged)
    assert all(n == 59 for (n,) in per_symbol)

    notices = [m for m in smtp_server.messages[before:] if "data quality: ohlcv" in m["Subject"]]
    assert len(notices) == len({symbol for _, symbol in held})  # one notice per damaged batch
    body = notices[0].get_body(("html",)).get_content()
    assert "ohlcv.close_positive" in body and "file://" in body
    docs = body.split('href="file://', 1)[1].split('"', 1)[0]
    assert Path(docs).is_file()
