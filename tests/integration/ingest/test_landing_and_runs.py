"""Raw landing files and the run lineage table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import psycopg

from cryptoderiv.exchanges.fetch import RawResponse
from cryptoderiv.ingest.landing import land_raw, read_landed
from cryptoderiv.ingest.runs import IngestRun, record_run

T0 = pd.Timestamp("2026-11-01T00:00Z")


def responses(n: int) -> list[RawResponse]:
    return [RawResponse("binance", "fetch_ohlcv", {"symbol": "BTC/USDT", "since": i * 60_000, "limit": 1000},
                        "http://127.0.0.1:1/api.binance.com/api/v3/klines", T0 + pd.Timedelta(seconds=i),
                        [[i * 60_000, 1.0, 2.0, 0.5, 1.5, 10.0]]) for i in range(n)]


def test_landing_round_trips_and_a_rerun_replaces_the_file(tmp_path: Path) -> None:
    path = land_raw(responses(3), "ohlcv", "scheduled__2026-11-01T00:00:00+00:00", "binance", root=tmp_path)
    assert path.name == "binance.parquet" and ":" not in str(path.relative_to(tmp_path))
    assert read_landed(path) == responses(3)
    again = land_raw(responses(2), "ohlcv", "scheduled__2026-11-01T00:00:00+00:00", "binance", root=tmp_path)
    assert again == path and len(read_landed(path)) == 2
    assert not list(tmp_path.rglob("*.partial"))


def test_a_rerun_replaces_its_lineage_row(db: psycopg.Connection) -> None:
    run = IngestRun("manual__1", "ohlcv", "binance", "simulator", T0, T0 + pd.Timedelta(hours=1),
                    T0, T0 + pd.Timedelta(seconds=5), rows_written={"ohlcv": 60})
    record_run(db, run)
    record_run(db, IngestRun(**{**run.__dict__, "rows_written": {"ohlcv": 61}}))
    db.commit()
    assert db.execute("SELECT rows_written FROM ingest_runs").fetchall() == [({"ohlcv": 61},)]
