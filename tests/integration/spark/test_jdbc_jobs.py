"""JDBC round trips against the test database: partitioned window reads, idempotent window writes, and
the jobs end to end (option_quotes -> option_greeks -> vol_surfaces / vol_surface_metrics; market tables
-> market_features)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pytest

from cryptoderiv.features.option_greeks import compute_option_greeks
from cryptoderiv.features.synthetic import SyntheticChainSpec, greeks_input, synthetic_chain
from cryptoderiv.storage import write_frame

pytestmark = [pytest.mark.db, pytest.mark.slow]

START = pd.Timestamp("2026-11-02T00:00:00Z")
END = pd.Timestamp("2026-11-03T00:00:00Z")
OUTPUT_TABLES = "option_greeks, vol_surfaces, vol_surface_metrics, market_features"


@pytest.fixture()
def chain_db(db: psycopg.Connection) -> tuple[psycopg.Connection, pd.DataFrame, pd.DataFrame]:
    db.execute(f"TRUNCATE {OUTPUT_TABLES}")
    instruments, quotes = synthetic_chain(SyntheticChainSpec(snapshots=2), seed=11)
    write_frame(db, "instruments", instruments.drop(columns=[]))
    # one quote outside the window: neither read nor deleted by the job
    outside = quotes.iloc[:1].assign(ts=END + pd.Timedelta(hours=1))
    write_frame(db, "option_quotes", pd.concat([quotes, outside], ignore_index=True).drop(columns=["bid_iv", "ask_iv"]))
    db.commit()
    return db, instruments, quotes


def test_jdbc_target_keeps_password_out_of_the_url() -> None:
    from cryptoderiv.features.spark.jdbc import jdbc_target

    target = jdbc_target("postgresql://alice:p%40ss@127.0.0.1:5433/market?sslmode=require&connect_timeout=3")
    assert target.url == "jdbc:postgresql://127.0.0.1:5433/market"
    assert target.properties == {"driver": "org.postgresql.Driver", "user": "alice", "password": "p@ss",
                                 "sslmode": "require"}
    assert "p@ss" not in repr(target)
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        jdbc_target("mysql://x@h/db")


def test_read_window_is_half_open_and_partitioned(spark: Any, database_url: str, chain_db: Any) -> None:
    from cryptoderiv.features.spark.jdbc import read_window

    _, _, quotes = chain_db
    frame = read_window(spark, database_url, "option_quotes", START.to_pydatetime(), END.to_pydatetime(),
                        num_partitions=3)
    assert frame.rdd.getNumPartitions() == 3
    got = frame.select("instrument_id", "ts", "mark").toPandas()
    assert len(got) == len(quotes)
    assert set(got["ts"].dt.tz_localize("UTC")) == set(quotes["ts"])  # UTC instants survive the round trip


def test_option_greeks_job_round_trip_is_idempotent(spark: Any, database_url: str, chain_db: Any) -> None:
    from cryptoderiv.features.spark.jobs import run_option_greeks

    db, instruments, quotes = chain_db
    first = run_option_greeks(spark, database_url, START.to_pydatetime(), END.to_pydatetime(), partitions=2)
    assert (first.rows_deleted, first.rows_inserted) == (0, len(quotes))
    again = run_option_greeks(spark, database_url, START.to_pydatetime(), END.to_pydatetime(), partitions=2)
    assert (again.rows_deleted, again.rows_inserted) == (len(quotes), len(quotes))

    with db.cursor() as cur:
        cur.execute("SELECT instrument_id, ts, iv_mark, delta, delta_coin, vega_coin, delta_bucket "
                    "FROM option_greeks ORDER BY instrument_id, ts")
        rows = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    assert len(rows) == len(quotes)
    expected = compute_option_greeks(greeks_input(instruments, quotes)).sort_values(["instrument_id", "ts"])
    assert (pd.to_datetime(rows["ts"], utc=True).to_numpy() == expected["ts"].to_numpy()).all()
    for column in ("iv_mark", "delta", "delta_coin", "vega_coin"):
        np.testing.assert_allclose(rows[column].to_numpy(dtype=float), expected[column].to_numpy(), rtol=1e-12)
    assert rows["delta_bucket"].tolist() == expected["delta_bucket"].tolist()


def test_vol_surface_job_publishes_slices_and_metrics(spark: Any, database_url: str, chain_db: Any) -> None:
    from cryptoderiv.features.spark.jobs import run_option_greeks, run_vol_surface

    db, _, _ = chain_db
    window = (START.to_pydatetime(), END.to_pydatetime())
    run_option_greeks(spark, database_url, *window, partitions=1)
    slices, metrics = run_vol_surface(spark, database_url, *window, partitions=1)
    assert (slices.rows_inserted, metrics.rows_inserted) == (2 * 4, 2)
    atm = db.execute("SELECT atm_iv_30d, variance_index_30d FROM vol_surface_metrics ORDER BY ts").fetchall()
    # generating smile: 55 % ATM; the variance index sits above ATM (convex, skewed smile)
    assert all(0.53 < a < 0.57 and v > a for a, v in atm)


def test_market_features_job_matches_the_twin(spark: Any, database_url: str, db: psycopg.Connection) -> None:
    from cryptoderiv.features.market_features import market_features as twin
    from cryptoderiv.features.spark.jobs import run_market_features
    from cryptoderiv.features.synthetic import synthetic_market_rows

    db.execute(f"TRUNCATE {OUTPUT_TABLES}")
    rows = synthetic_market_rows(bars=200, seed=9)
    venues = rows.drop_duplicates("instrument_id")
    write_frame(db, "instruments", pd.DataFrame({
        "instrument_id": venues["instrument_id"], "exchange": venues["exchange"],
        "symbol": "BTC/USDT:USDT", "kind": "perpetual", "base": "BTC", "quote": "USDT", "settle": "USDT",
        "funding_interval_hours": 8}))
    part = {source: rows[rows["source"] == source] for source in rows["source"].unique()}
    write_frame(db, "ohlcv", part["ohlcv"][["instrument_id", "ts", "open", "high", "low", "close", "volume"]]
                .assign(timeframe="1h"))
    write_frame(db, "funding_rates", part["funding"][["instrument_id", "ts", "rate"]]
                .assign(interval_hours=part["funding"]["interval_hours"].astype("int16")))
    write_frame(db, "open_interest", part["open_interest"][["instrument_id", "ts", "oi_usd"]])
    fq = part["futures_quote"]
    write_frame(db, "futures_quotes", fq[["instrument_id", "ts", "mark_price", "index_price"]]
                .assign(basis=fq["mark_price"] - fq["index_price"]))
    db.commit()

    start, end = pd.Timestamp("2026-11-08T00:00:00Z"), pd.Timestamp("2026-11-09T00:00:00Z")
    written = run_market_features(spark, database_url, start.to_pydatetime(), end.to_pydatetime(), partitions=2)
    assert written.rows_inserted == 3 * 24
    with db.cursor() as cur:
        cur.execute("SELECT * FROM market_features ORDER BY instrument_id, ts")
        stored = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    expected = twin(rows, start, end).sort_values(["instrument_id", "ts"]).reset_index(drop=True)
    for column in ("close", "rv_yz_168", "funding_apr", "basis", "oi_change_24", "cross_venue_spread_bp"):
        np.testing.assert_allclose(stored[column].to_numpy(dtype=float), expected[column].to_numpy(dtype=float),
                                   rtol=1e-9, err_msg=column)
