"""The storage writer: round trip, idempotency, and whole-batch refusal with readable errors."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pytest

from cryptoderiv.errors import ContractViolation
from cryptoderiv.samples import SAMPLE_INSTRUMENTS, sample_candles
from cryptoderiv.storage import write_frame

START = pd.Timestamp("2026-11-01T00:00:00Z")


@pytest.fixture()
def catalog(db: psycopg.Connection) -> psycopg.Connection:
    write_frame(db, "instruments", SAMPLE_INSTRUMENTS)
    db.commit()
    return db


def candles(n_minutes: int = 120, seed: int = 1) -> pd.DataFrame:
    return sample_candles(SAMPLE_INSTRUMENTS.iloc[:2], START, n_minutes, seed=seed)


def table_checksum(conn: psycopg.Connection, table: str) -> tuple[int, str]:
    rows = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def read_ohlcv(conn: psycopg.Connection) -> pd.DataFrame:
    rows = conn.execute(
        "SELECT i.exchange, i.symbol, o.timeframe, o.ts, o.open, o.high, o.low, o.close, o.volume"
        " FROM ohlcv o JOIN instruments i USING (instrument_id) ORDER BY i.instrument_id, o.ts").fetchall()
    frame = pd.DataFrame(rows, columns=["exchange", "symbol", "timeframe", "ts", "open", "high", "low",
                                        "close", "volume"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def test_round_trip_returns_exactly_what_was_written(catalog: psycopg.Connection) -> None:
    batch = candles()
    result = write_frame(catalog, "ohlcv", batch)
    catalog.commit()
    assert (result.rows_in, result.rows_changed) == (len(batch), len(batch))
    back = read_ohlcv(catalog)
    expected = batch.sort_values(["symbol", "ts"], ignore_index=True)
    pd.testing.assert_frame_equal(back.sort_values(["symbol", "ts"], ignore_index=True), expected,
                                  check_dtype=False, check_exact=True)


def test_arrow_tables_are_accepted(catalog: psycopg.Connection) -> None:
    batch = candles(30)
    write_frame(catalog, "ohlcv", pa.Table.from_pandas(batch, preserve_index=False))
    catalog.commit()
    assert catalog.execute("SELECT count(*) FROM ohlcv").fetchone() == (len(batch),)


def test_loading_the_same_batch_twice_keeps_the_rows(catalog: psycopg.Connection) -> None:
    batch = candles()
    write_frame(catalog, "ohlcv", batch)
    catalog.commit()
    before = table_checksum(catalog, "ohlcv")
    again = write_frame(catalog, "ohlcv", batch)
    catalog.commit()
    assert again.rows_changed == 0 and again.rows_unchanged == len(batch)
    assert table_checksum(catalog, "ohlcv") == before


def test_overlapping_batches_upsert_corrected_rows(catalog: psycopg.Connection) -> None:
    batch = candles()
    write_frame(catalog, "ohlcv", batch)
    corrected = batch.iloc[50:80].copy()
    corrected["volume"] = corrected["volume"] + 1.0
    later = sample_candles(SAMPLE_INSTRUMENTS.iloc[:2], START + pd.Timedelta(minutes=120), 10)
    result = write_frame(catalog, "ohlcv", pd.concat([corrected, later], ignore_index=True))
    catalog.commit()
    assert result.rows_changed == len(corrected) + len(later)
    back = read_ohlcv(catalog).set_index(["symbol", "ts"])
    fixed = corrected.set_index(["symbol", "ts"])
    np.testing.assert_array_equal(back.loc[fixed.index, "volume"].to_numpy(), fixed["volume"].to_numpy())
    assert len(back) == len(batch) + len(later)


def test_instruments_upsert_on_their_natural_key(catalog: psycopg.Connection) -> None:
    ids_before = dict(catalog.execute("SELECT symbol || '@' || exchange, instrument_id FROM instruments").fetchall())
    delisted = SAMPLE_INSTRUMENTS.iloc[[0]].assign(active=False)
    result = write_frame(catalog, "instruments", delisted)
    catalog.commit()
    assert result.rows_changed == 1
    ids_after = dict(catalog.execute("SELECT symbol || '@' || exchange, instrument_id FROM instruments").fetchall())
    assert ids_after == ids_before
    assert catalog.execute("SELECT count(*) FROM instruments WHERE NOT active").fetchone() == (1,)


def _refused(conn: psycopg.Connection, table: str, batch: pd.DataFrame, *patterns: str) -> str:
    before = table_checksum(conn, table)
    with pytest.raises(ContractViolation) as info:
        write_frame(conn, table, batch)
    conn.rollback()
    message = str(info.value)
    for pattern in patterns:
        assert pattern in message, message
    assert "nothing was written" in message
    assert table_checksum(conn, table) == before
    return message


@pytest.mark.parametrize(
    ("mutate", "patterns"),
    [
        (lambda b: b.assign(close=b["close"].where(b.index != 7, np.nan)), ["row 7", "close is NaN"]),
        (lambda b: b.assign(open=b["open"].where(b.index != 3, -5.0)), ["row 3", "ohlcv_open_check"]),
        (lambda b: b.assign(volume=b["volume"].where(b.index != 4, -1.0)), ["row 4", "ohlcv_volume_check"]),
        (lambda b: b.assign(high=b["high"].where(b.index != 9, np.inf)), ["row 9", "high is infinite"]),
        (lambda b: b.assign(timeframe=b["timeframe"].where(b.index != 2, "2m")), ["row 2", "ohlcv_timeframe_check"]),
        (lambda b: b.assign(symbol=b["symbol"].where(b.index != 5, "DOGE/USDT")), ["row 5", "unknown instrument"]),
        (lambda b: b.assign(ts=b["ts"].dt.tz_localize(None)), ["ohlcv.ts", "naive"]),
        (lambda b: b.assign(close=b["close"].astype(str)), ["ohlcv.close", "expected numbers"]),
        (lambda b: pd.concat([b, b.iloc[[11]]], ignore_index=True), ["row 11", "duplicate key"]),
        (lambda b: b.drop(columns=["low"]), ["required columns missing", "low"]),
        (lambda b: b.assign(colour="red"), ["unknown columns", "colour"]),
    ],
    ids=["nan", "negative-price", "negative-volume", "inf", "bad-enum", "unknown-instrument", "naive-ts",
         "string-dtype", "duplicate-key", "missing-column", "unknown-column"],
)
def test_a_bad_batch_is_refused_whole_with_a_readable_error(catalog, mutate, patterns) -> None:
    write_frame(catalog, "ohlcv", candles(30, seed=9).assign(ts=lambda f: f["ts"] - pd.Timedelta(days=1)))
    catalog.commit()
    _refused(catalog, "ohlcv", mutate(candles(60)), *patterns)


def test_multi_column_checks_name_the_row(catalog: psycopg.Connection) -> None:
    write_frame(catalog, "instruments", pd.DataFrame([{
        "exchange": "deribit", "symbol": "BTC/USD:BTC-261225-100000-C", "kind": "option", "base": "BTC",
        "quote": "USD", "settle": "BTC", "is_inverse": True, "contract_size": 1.0,
        "expiry": pd.Timestamp("2026-12-25T08:00Z"), "strike": 100_000.0, "option_type": "call"}]))
    quotes = pd.DataFrame({
        "exchange": "deribit", "symbol": "BTC/USD:BTC-261225-100000-C",
        "ts": pd.date_range(START, periods=3, freq="15min"), "premium_currency": "BTC",
        "bid": [0.010, 0.012, 0.011], "ask": [0.011, 0.011, 0.012], "mark": 0.0105, "mark_usd": 950.0,
        "underlying_price": 91_000.0, "index_price": 90_900.0, "time_to_expiry": 0.15, "mark_iv": 0.55,
    })
    message = _refused(catalog, "option_quotes", quotes, "row 1", "option_quotes_check", "bid <= ask")
    assert "row 0" not in message and "row 2" not in message


def test_nullable_numbers_store_nan_as_null(catalog: psycopg.Connection) -> None:
    write_frame(catalog, "open_interest", pd.DataFrame({
        "exchange": "binance", "symbol": "BTC/USDT:USDT", "ts": pd.date_range(START, periods=2, freq="1h"),
        "oi_contracts": [1200.0, np.nan], "oi_usd": [1.1e8, 1.2e8]}))
    catalog.commit()
    assert catalog.execute("SELECT count(*) FROM open_interest WHERE oi_contracts IS NULL").fetchone() == (1,)
