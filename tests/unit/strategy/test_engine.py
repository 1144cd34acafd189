"""The backtest engine: hand-computed cases, cost/funding conventions, roll, and the numba/NumPy twins."""

from __future__ import annotations

import numpy as np
import pytest

from cryptoderiv.strategy.engine import BacktestInputError, CostModel, align_funding, run
from cryptoderiv.strategy.futures import roll_chain

NAN = np.nan


def days(n: int) -> np.ndarray:
    return np.datetime64("2024-01-01T00:00", "ns") + np.arange(n) * np.timedelta64(1, "D")


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_buy_hold_sell_with_fee_by_hand(engine: str) -> None:
    # buy 1 coin at 100 (fee 0.1), ride +10, -11, +22, sell at 121 (fee 0.121)
    res = run(days(4), [100.0, 110.0, 99.0, 121.0], [1.0, NAN, NAN, 0.0], costs=CostModel(fee=0.001),
              initial_equity=1000.0, engine=engine)
    np.testing.assert_allclose(res.equity, [999.9, 1009.9, 998.9, 1020.779], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.fee, [0.1, 0, 0, 0.121], atol=1e-15)
    np.testing.assert_allclose(res.traded_notional, [100, 0, 0, 121])
    np.testing.assert_allclose(res.units, [1, 1, 1, 0])


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_slippage_fills_buy_above_and_sell_below_mark(engine: str) -> None:
    # slippage 1 %, fee 0.1 % of the executed notional: buy fills at 101, fee 0.101; sell at 99, fee 0.099
    res = run(days(2), [100.0, 100.0], [1.0, 0.0], costs=CostModel(fee=0.001, slippage=0.01),
              initial_equity=1000.0, engine=engine)
    np.testing.assert_allclose(res.slippage, [1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(res.fee, [0.101, 0.099], atol=1e-12)
    np.testing.assert_allclose(res.equity[-1], 1000.0 - 2.0 - 0.2, atol=1e-12)


@pytest.mark.parametrize("side", [1.0, -1.0])
def test_funding_long_pays_positive_rate_short_receives(side: float) -> None:
    # 2 coins at a constant 100; 1 bp due at bar 2 on the notional held into it (200 USD): 0.02 USD
    funding = [0.0, 0.0, 0.0001, 0.0]
    res = run(days(4), [100.0] * 4, [2.0 * side, NAN, NAN, NAN], funding=funding, initial_equity=1000.0)
    np.testing.assert_allclose(res.funding_pnl, [0, 0, -0.02 * side, 0], atol=1e-15)
    np.testing.assert_allclose(res.equity[-1], 1000.0 - 0.02 * side, atol=1e-12)


def test_funding_is_charged_on_position_held_into_the_funding_time() -> None:
    # the position opened AT the funding bar does not pay that bar's funding
    res = run(days(3), [100.0] * 3, [NAN, 1.0, NAN], funding=[0.0, 0.01, 0.01], initial_equity=1000.0)
    np.testing.assert_allclose(res.funding_pnl, [0.0, 0.0, -1.0], atol=1e-15)


@pytest.mark.parametrize("fee,slip", [(0.0, 0.0), (0.001, 0.0), (0.0005, 0.002)])
def test_weight_sizing_holds_weight_after_costs(fee: float, slip: float) -> None:
    res = run(days(3), [100.0, 120.0, 90.0], [1.0, -0.5, 0.25], sizing="weight",
              costs=CostModel(fee=fee, slippage=slip), initial_equity=1000.0)
    mark = np.array([100.0, 120.0, 90.0])
    np.testing.assert_allclose(res.units * mark / res.equity, [1.0, -0.5, 0.25], rtol=1e-12)
    # all-in from flat buys E / (p (1+s)(1+f)) coins, like vectorbt's size=inf
    np.testing.assert_allclose(res.units[0], 1000.0 / (100.0 * (1 + slip) * (1 + fee)), rtol=1e-12)


def test_roll_books_each_contract_move_and_never_the_jump() -> None:
    # contract A 100 -> 101 -> 102 (roll bar), contract B 107 -> 108; 1 coin long, fee 0.1 %
    ts = days(4)
    prices = np.array([[100.0, 105.0], [101.0, 106.0], [102.0, 107.0], [NAN, 108.0]])
    expiries = np.array([ts[2] + np.timedelta64(12, "h"), ts[3] + np.timedelta64(30, "D")])
    chain = roll_chain(ts, prices, expiries, roll_before=np.timedelta64(1, "D"))
    np.testing.assert_array_equal(chain.contract, [0, 0, 1, 1])
    np.testing.assert_array_equal(chain.roll, [False, False, True, False])
    for engine in ("numba", "numpy"):
        res = run(ts, chain.mark, [1.0, NAN, NAN, NAN], costs=CostModel(fee=0.001), initial_equity=1000.0,
                  mark_prev=chain.mark_prev, roll=chain.roll, engine=engine)  # type: ignore[arg-type]
        np.testing.assert_allclose(res.price_pnl, [0, 1, 1, 1], atol=1e-12)
        # fees: open A at 100 (0.1); roll: close A at 102 (0.102) + open B at 107 (0.107)
        np.testing.assert_allclose(res.fee, [0.1, 0, 0.209, 0], atol=1e-12)
        np.testing.assert_allclose(res.equity[-1], 1000 + 3 - 0.309, atol=1e-12)


def test_roll_chain_names_missing_price() -> None:
    ts = days(2)
    with pytest.raises(BacktestInputError, match="contract 0 has no price at bar 1"):
        roll_chain(ts, [[1.0, 2.0], [NAN, 2.0]], [ts[1] + np.timedelta64(9, "D"), ts[1] + np.timedelta64(99, "D")])


def test_kernel_and_numpy_twin_agree_on_random_paths() -> None:
    rng = np.random.default_rng(20240611)
    n = 3000
    ts = np.datetime64("2024-01-01", "ns") + np.arange(n) * np.timedelta64(1, "m")
    mark = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    mark_prev = mark * np.where(rng.random(n) < 0.01, 1.0 + rng.normal(0, 0.01, n), 1.0)
    roll = mark_prev != mark
    funding = np.where(np.arange(n) % 480 == 0, rng.normal(1e-4, 3e-4, n), 0.0)
    costs = CostModel(fee=0.0004, slippage=0.0002)
    for sizing, scale in (("units", 5.0), ("weight", 2.0)):
        target = np.where(rng.random(n) < 0.05, rng.uniform(-scale, scale, n), NAN)
        a = run(ts, mark, target, sizing=sizing, costs=costs, funding=funding, initial_equity=1000.0,  # type: ignore[arg-type]
                mark_prev=mark_prev, roll=roll, engine="numba")
        b = run(ts, mark, target, sizing=sizing, costs=costs, funding=funding, initial_equity=1000.0,  # type: ignore[arg-type]
                mark_prev=mark_prev, roll=roll, engine="numpy")
        for field in ("units", "equity", "price_pnl", "funding_pnl", "fee", "slippage", "traded_notional"):
            np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=1e-10, atol=1e-8,
                                       err_msg=f"{sizing}: {field}")
        # accounting identity: equity moves by the sum of the components
        np.testing.assert_allclose(a.equity, 1000.0 + np.cumsum(a.pnl), rtol=1e-12, atol=1e-8)


def test_align_funding_lands_on_first_bar_at_or_after() -> None:
    bars = np.array(["2024-01-01T00:00", "2024-01-01T04:00", "2024-01-01T08:00", "2024-01-01T12:00"],
                    dtype="datetime64[ns]")
    fts = np.array(["2023-12-31T16:00", "2024-01-01T00:00", "2024-01-01T07:59", "2024-01-01T16:00"],
                   dtype="datetime64[ns]")
    np.testing.assert_allclose(align_funding(bars, fts, [9.0, 1.0, 2.0, 3.0]), [1.0, 0.0, 2.0, 0.0])


def test_bad_inputs_are_named() -> None:
    with pytest.raises(BacktestInputError, match="row 1"):
        run(days(2), [100.0, -1.0], [1.0, NAN])
    with pytest.raises(BacktestInputError, match="target has 1 rows"):
        run(days(2), [100.0, 101.0], [1.0])
    with pytest.raises(BacktestInputError, match="fee"):
        CostModel(fee=-0.1)
