"""Strategies: SMA crossover (and vectorbt as an independent reference), carry, short straddle settlement."""

from __future__ import annotations

import numpy as np
import pytest

from cryptoderiv.pricing import black76
from cryptoderiv.strategy.carry import funding_carry_signal, run_carry
from cryptoderiv.strategy.engine import CostModel
from cryptoderiv.strategy.straddle import run_short_straddle, straddle_cycles
from cryptoderiv.strategy.trend import run_sma_crossover, sma, sma_crossover_targets

NAN = np.nan


def bars(n: int, step: str = "D") -> np.ndarray:
    return np.datetime64("2024-01-01T00:00", "ns") + np.arange(n) * np.timedelta64(1, step)


def test_sma_and_crossover_targets_by_hand() -> None:
    close = np.array([5.0, 4.0, 3.0, 4.0, 6.0, 5.0, 3.0, 2.0])
    np.testing.assert_allclose(sma(close, 3), [NAN, NAN, 4.0, 11 / 3, 13 / 3, 5.0, 14 / 3, 10 / 3])
    # fast = 1 (the close) vs slow = 3: bar 2 below (3 < 4), bar 3 above (4 > 11/3): up-cross at 3;
    # bar 5 equal (5 = 5, neither side), bar 6 below (3 < 14/3): down-cross at 6
    t = sma_crossover_targets(close, 1, 3)
    np.testing.assert_array_equal(np.isnan(t), [True, True, True, False, True, True, False, True])
    assert t[3] == 1.0 and t[6] == 0.0
    assert sma_crossover_targets(close, 1, 3, allow_short=True)[6] == -1.0


@pytest.mark.slow
def test_sma_crossover_equity_matches_vectorbt_from_signals() -> None:
    vbt = pytest.importorskip("vectorbt")
    import pandas as pd

    rng = np.random.default_rng(11)
    n = 5000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    ts = bars(n, "m")
    ours = run_sma_crossover(ts, close, 10, 40, costs=CostModel(fee=0.001, slippage=0.0005))
    s = pd.Series(close, index=pd.DatetimeIndex(ts))
    fast = vbt.MA.run(s, 10)
    slow = vbt.MA.run(s, 40)
    pf = vbt.Portfolio.from_signals(s, fast.ma_crossed_above(slow), fast.ma_crossed_below(slow),
                                    fees=0.001, slippage=0.0005, init_cash=10_000.0, freq="1min")
    theirs = pf.value().to_numpy()
    assert int((np.diff(ours.units) != 0).sum()) == int(pf.orders.count())
    np.testing.assert_allclose(ours.equity, theirs, rtol=1e-9)


def test_carry_collects_funding_on_the_short_leg() -> None:
    # 8h bars at a constant 100: 5000 USD notional (50 coins) short perp, 1 bp per funding -> +0.5 USD each
    n = 7
    funding = np.full(n, 0.0001)
    active = np.ones(n, dtype=bool)
    spot = np.full(n, 100.0)
    s, h = run_carry(bars(8 * n, "h")[::8], spot, spot, active, funding=funding, notional_fraction=0.5,
                     initial_equity=10_000.0)
    total = s + h
    np.testing.assert_allclose(total.funding_pnl, [0.0] + [0.5] * (n - 1), atol=1e-12)
    np.testing.assert_allclose(total.equity[-1], 10_000.0 + 0.5 * (n - 1), atol=1e-9)
    np.testing.assert_allclose(s.units, 50.0)
    np.testing.assert_allclose(h.units, -50.0)


def test_carry_is_price_neutral_and_pays_costs_on_both_legs() -> None:
    spot = np.array([100.0, 150.0, 80.0, 100.0])
    s, h = run_carry(bars(4), spot, spot, np.array([True, True, True, False]),
                     spot_costs=CostModel(fee=0.001), hedge_costs=CostModel(fee=0.0005), initial_equity=1000.0)
    total = s + h
    np.testing.assert_allclose(total.price_pnl, 0.0, atol=1e-12)
    # 5 coins: spot 0.5 + 0.5 USD fees, perp 0.25 + 0.25
    np.testing.assert_allclose(total.equity[-1], 1000.0 - 1.5, atol=1e-12)


def test_funding_carry_signal_uses_only_paid_rates_with_hysteresis() -> None:
    f = np.array([0.0, 1e-4, 0.0, 3e-4, 0.0, -5e-4, 0.0, 1e-4, 0.0])
    # lookback 2: means at bars 3 (2e-4: on), 5 (-1e-4: off), 7 (-2e-4: off)
    on = funding_carry_signal(f, lookback=2, enter_above=5e-5, exit_below=0.0)
    np.testing.assert_array_equal(on, [False, False, False, True, True, False, False, False, False])


def test_straddle_cycles_sell_at_each_settlement() -> None:
    starts, cycle = straddle_cycles(bars(10), np.timedelta64(3, "D"))
    np.testing.assert_array_equal(starts, [0, 3, 6, 9])
    np.testing.assert_array_equal(cycle, [0, 0, 0, 1, 1, 1, 2, 2, 2, 3])


def test_unhedged_linear_straddle_settles_cash_against_index() -> None:
    # hedge every 10**6 bars = only at sales; no fees: the option account after expiry is
    # premium - |S_T - K| for the first straddle (sold at 100, 3 days at 80 % vol; index 112 at expiry)
    index = np.array([100.0, 104.0, 95.0, 112.0, 111.0])
    vol = np.full(5, 0.8)
    res = run_short_straddle(bars(5), index, vol, tenor=np.timedelta64(3, "D"), option_fee=0.0,
                             size_fraction=1.0, initial_equity=100.0, hedge_every=10**6)
    t = 3 / 365
    premium = float(black76.price(1.0, 100.0, 100.0, t, 0.8) + black76.price(-1.0, 100.0, 100.0, t, 0.8))
    assert res.option_unit == "USD"
    assert res.settlements[3] == pytest.approx(12.0, abs=1e-12)  # q = 1 coin, |112 - 100|
    new_premium = float(black76.price(1.0, 112.0, 112.0, t, 0.8) + black76.price(-1.0, 112.0, 112.0, t, 0.8))
    # after bar 3: cash = premium - 12 + q2 * new_premium, minus the mark of the new straddle (q2 = 100/112)
    assert res.option_value[3] == pytest.approx(premium - 12.0, abs=1e-10)
    cash_after = premium - 12.0 + (100 / 112) * new_premium
    assert res.option_value[3] + (100 / 112) * new_premium == pytest.approx(cash_after, abs=1e-10)


def test_inverse_straddle_settles_in_coin() -> None:
    index = np.array([100.0, 104.0, 95.0, 80.0])
    res = run_short_straddle(bars(4), index, np.full(4, 0.6), tenor=np.timedelta64(3, "D"), option_fee=0.0,
                             settlement="inverse", initial_equity=100.0)
    assert res.option_unit == "coin"
    # 1 straddle (q = 1 coin of underlying) settles |80 - 100| / 80 coin
    assert res.settlements[3] == pytest.approx(20.0 / 80.0, abs=1e-14)


def test_every_bar_hedged_inverse_straddle_equals_linear_in_usd() -> None:
    # zero basis and rates: hedging the coin account's delta makes the USD P&L identical to linear options
    rng = np.random.default_rng(3)
    n = 60
    index = 100 * np.exp(np.cumsum(rng.normal(0, 0.04, n)))
    vol = rng.uniform(0.4, 0.9, n)
    kw = {"tenor": np.timedelta64(7, "D"), "option_fee": 0.0003, "initial_equity": 1000.0,
          "funding": np.where(np.arange(n) % 3 == 0, 1e-4, 0.0)}
    lin = run_short_straddle(bars(n), index, vol, settlement="linear", **kw)  # type: ignore[arg-type]
    inv = run_short_straddle(bars(n), index, vol, settlement="inverse", **kw)  # type: ignore[arg-type]
    assert inv.option_unit == "coin" and lin.option_unit == "USD"
    # the hedges differ (the inverse one also hedges the coin cash), so their funding differs: compare ex funding
    np.testing.assert_allclose(inv.total.equity - inv.total.funding_pnl.cumsum(),
                               lin.total.equity - lin.total.funding_pnl.cumsum(), rtol=1e-10)


def test_crossover_kernel_matches_numpy_twin() -> None:
    rng = np.random.default_rng(21)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.003, 20_000)))
    for short in (False, True):
        np.testing.assert_array_equal(sma_crossover_targets(close, 7, 31, short, engine="numba"),
                                      sma_crossover_targets(close, 7, 31, short, engine="numpy"))
