"""Hourly and daily rollups equal a pandas resample of the 1m candles."""

from __future__ import annotations

import pandas as pd
import psycopg

from cryptoderiv.samples import SAMPLE_INSTRUMENTS, sample_candles
from cryptoderiv.storage import write_frame
from cryptoderiv.storage.rollups import refresh_rollups


def test_rollups_match_a_resample_of_the_minute_bars(database_url: str, db: psycopg.Connection) -> None:
    write_frame(db, "instruments", SAMPLE_INSTRUMENTS.iloc[:1])
    minute = sample_candles(SAMPLE_INSTRUMENTS.iloc[:1], pd.Timestamp("2026-11-01T00:00Z"), 3 * 24 * 60 + 17)
    write_frame(db, "ohlcv", minute)
    db.commit()
    refresh_rollups(database_url)
    refresh_rollups(database_url)  # the second refresh runs CONCURRENTLY on the populated views
    with psycopg.connect(database_url, autocommit=True) as conn:
        hourly = pd.DataFrame(conn.execute("SELECT ts, open, high, low, close, volume, n_bars FROM ohlcv_1h"
                                           " ORDER BY ts").fetchall(),
                              columns=["ts", "open", "high", "low", "close", "volume", "n_bars"])
    expected = minute.set_index("ts").resample("1h").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum", "symbol": "size"})
    assert len(hourly) == len(expected) == 73
    for column in ("open", "high", "low", "close"):
        assert (hourly[column].to_numpy() == expected[column].to_numpy()).all(), column
    assert abs(hourly["volume"].to_numpy() - expected["volume"].to_numpy()).max() < 1e-9
    assert hourly["n_bars"].tolist() == expected["symbol"].tolist()
