"""The market is a pure function of (seed, time): fresh simulators and any request order give the same data."""

from __future__ import annotations

import pandas as pd

from cryptoderiv.exchanges import fetch_funding_history, fetch_ohlcv
from cryptoderiv.simulator import SimulatorServer

HOUR = 3_600_000


def fetch(server, venue, symbol, start, end):
    kw = {"source": "simulator", "simulator_url": server.url}
    return fetch_ohlcv(venue, symbol, "5m", start, end, **kw).frame


def test_same_seed_same_candles_from_fresh_instances_in_any_order(past_day):
    start, _ = past_day
    early = (start - 30 * 24 * HOUR, start - 29 * 24 * HOUR)
    late = (start, start + 6 * HOUR)
    with SimulatorServer(seed=11) as first:
        a_early = fetch(first, "binance", "ETH/USDT:USDT", *early)
        a_late = fetch(first, "binance", "ETH/USDT:USDT", *late)
        a_fund = fetch_funding_history(
            "bybit", "BTC/USDT:USDT", *early, source="simulator", simulator_url=first.url
        ).frame
    with SimulatorServer(seed=11) as second:  # a fresh market, windows asked in the opposite order
        b_fund = fetch_funding_history(
            "bybit", "BTC/USDT:USDT", *early, source="simulator", simulator_url=second.url
        ).frame
        b_late = fetch(second, "binance", "ETH/USDT:USDT", *late)
        b_early = fetch(second, "binance", "ETH/USDT:USDT", *early)
    pd.testing.assert_frame_equal(a_early, b_early)
    pd.testing.assert_frame_equal(a_late, b_late)
    pd.testing.assert_frame_equal(a_fund, b_fund)
    assert len(a_early) == 288 and len(a_late) == 72
    with SimulatorServer(seed=12) as other:
        c_late = fetch(other, "binance", "ETH/USDT:USDT", *late)
    assert not c_late["close"].equals(a_late["close"])
