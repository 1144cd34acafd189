"""The ``make demo`` step on the project's own generated sample candles (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.samples import SAMPLE_INSTRUMENTS, sample_candles
from cryptoderiv.strategy.demo import demo_from_frames
from cryptoderiv.strategy.engine import BacktestInputError


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    inst = SAMPLE_INSTRUMENTS[~SAMPLE_INSTRUMENTS["is_inverse"]]
    candles = sample_candles(inst, pd.Timestamp("2026-01-01", tz="UTC"), 600).merge(
        inst[["exchange", "symbol", "kind", "base"]], on=["exchange", "symbol"])
    funding = pd.DataFrame({"exchange": "binance", "symbol": "BTC/USDT:USDT",
                            "ts": pd.date_range("2026-01-01", periods=2, freq="8h", tz="UTC"),
                            "rate": [1e-4, 2e-4]})
    return candles, funding


def test_demo_runs_three_strategies_and_four_optimisers() -> None:
    candles, funding = frames()
    demo = demo_from_frames(candles, funding, atm_iv={"BTC": 0.55}, bases=["BTC"])
    assert len(demo.strategies) == 3
    assert list(demo.allocation.index) == ["mean-variance (long/short)", "min CVaR 95% (long-only)",
                                           "risk parity (ERC)", "HRP"]
    assert all("BTC" in c for c in demo.allocation.columns)  # only the portfolio's base
    np.testing.assert_allclose(demo.allocation.sum(axis=1), 1.0, atol=1e-8)
    text = demo.to_text()
    assert "trend SMA 5/20" in text and "HRP" in text and "efficient frontier" in text


def test_demo_without_perpetual_candles_says_what_is_missing() -> None:
    candles, funding = frames()
    with pytest.raises(BacktestInputError, match="no perpetual 1m candles"):
        demo_from_frames(candles[candles["kind"] == "spot"], funding)
