"""Realised variance from intraday bars, targets, and the Binance CSV reader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.forecast.data import load_binance_csv, realized_from_bars, target


def test_daily_realised_variance_sums_squared_bar_returns_including_the_overnight_bar() -> None:
    ts = pd.date_range("2024-01-01", periods=6 * 3 + 2, freq="4h", tz="UTC")
    close = 100 * np.exp(np.cumsum(np.r_[0.0, np.random.default_rng(1).normal(0, 0.01, ts.size - 1)]))
    frame = realized_from_bars(pd.DataFrame({"ts": ts, "close": close}), "1D", min_coverage=0.9)
    r = np.diff(np.log(close))
    # day 1: bars 04:00..20:00 (5 returns; the first bar has none) -> partial (< 0.9 * 6), and so is day 4 (2 bars)
    assert list(frame.index) == list(pd.date_range("2024-01-02", periods=2, freq="1D", tz="UTC"))
    assert frame["value"].iloc[0] == pytest.approx(np.sum(r[5:11] ** 2), rel=1e-12)
    assert frame["ret"].iloc[0] == pytest.approx(np.log(close[11] / close[5]), rel=1e-12)
    assert (frame["n_bars"] == 6).all()


def test_target_is_the_mean_of_the_next_h_values() -> None:
    frame = pd.DataFrame({"value": np.arange(10.0)}, index=pd.date_range("2024-01-01", periods=10, tz="UTC"))
    y = target(frame, 3)
    assert y.iloc[0] == pytest.approx((1 + 2 + 3) / 3)
    assert y.iloc[:7].notna().all() and y.iloc[7:].isna().all()


def test_binance_csv_drops_the_partial_last_candle(shared_market_dir) -> None:
    bars = load_binance_csv(shared_market_dir / "binance_ohlcv_btc_eth" / "BTCUSDT_4h.csv")
    raw = pd.read_csv(shared_market_dir / "binance_ohlcv_btc_eth" / "BTCUSDT_4h.csv")
    assert len(bars) == len(raw) - 1
    assert bars["ts"].iloc[-1] == pd.Timestamp(raw["timestamp"].iloc[-2], tz="UTC")
    daily = realized_from_bars(bars)
    assert daily.index.is_monotonic_increasing and (daily["value"] > 0).all()
