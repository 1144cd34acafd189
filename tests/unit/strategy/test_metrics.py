"""Metrics on hand-computable equity curves, and against vectorbt's returns statistics (independent)."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from cryptoderiv.strategy.engine import BacktestInputError
from cryptoderiv.strategy.metrics import compute_metrics, max_drawdown, periods_per_year

DAILY = np.datetime64("2024-01-01", "ns") + np.arange(4) * np.timedelta64(1, "D")


def test_metrics_by_hand_on_four_daily_points() -> None:
    equity = [100.0, 110.0, 99.0, 121.0]
    r = [0.1, -0.1, 121.0 / 99.0 - 1.0]
    m = compute_metrics(equity, DAILY, traded_notional=[100.0, 0.0, 0.0, 121.0])
    assert m.periods_per_year == pytest.approx(365.0)
    assert m.days == pytest.approx(3.0)
    assert m.total_return == pytest.approx(0.21)
    assert m.sharpe == pytest.approx(statistics.fmean(r) / statistics.stdev(r) * math.sqrt(365), rel=1e-12)
    # downside deviation: sqrt((0 + 0.01 + 0) / 3)
    assert m.sortino == pytest.approx(statistics.fmean(r) / math.sqrt(0.01 / 3) * math.sqrt(365), rel=1e-12)
    assert m.max_drawdown == pytest.approx(0.1)  # 110 -> 99
    assert m.cagr == pytest.approx(1.21 ** (365 / 3) - 1, rel=1e-12)
    assert m.calmar == pytest.approx(m.cagr / 0.1, rel=1e-12)
    # 221 traded over a mean equity of 107.5 in 3 days
    assert m.turnover == pytest.approx(221 / 107.5 * 365 / 3, rel=1e-12)


def test_minute_bars_annualise_on_365_days() -> None:
    ts = np.datetime64("2024-01-01", "ns") + np.arange(10) * np.timedelta64(1, "m")
    assert periods_per_year(ts) == pytest.approx(525_600.0)


def test_drawdown_of_monotone_curve_is_zero_and_calmar_nan() -> None:
    m = compute_metrics([1.0, 2.0, 3.0, 4.0], DAILY)
    assert max_drawdown([1.0, 2.0, 3.0]) == 0.0
    assert math.isnan(m.calmar) and math.isnan(m.sortino) and math.isnan(m.turnover)


def test_non_positive_equity_is_named() -> None:
    with pytest.raises(BacktestInputError, match="row 2"):
        compute_metrics([1.0, 2.0, 0.0, 4.0], DAILY)


@pytest.mark.slow
def test_ratios_match_vectorbt_returns_accessor() -> None:
    pytest.importorskip("vectorbt")
    import pandas as pd

    rng = np.random.default_rng(7)
    n = 400
    ts = pd.date_range("2023-01-01", periods=n, freq="D")
    equity = 1000 * np.cumprod(1 + rng.normal(0.001, 0.03, n))
    ours = compute_metrics(equity, ts.to_numpy())
    returns = pd.Series(equity, index=ts).pct_change().iloc[1:]
    acc = returns.vbt.returns(freq="1D", year_freq="365 days")
    assert ours.sharpe == pytest.approx(acc.sharpe_ratio(), rel=1e-9)
    assert ours.sortino == pytest.approx(acc.sortino_ratio(), rel=1e-9)
    assert ours.max_drawdown == pytest.approx(-acc.max_drawdown(), rel=1e-9)
    assert ours.volatility == pytest.approx(acc.annualized_volatility(), rel=1e-9)
