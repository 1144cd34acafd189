"""Stress scenarios and the expected-return decomposition on the reference book."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.portfolio.valuation import revalue
from cryptoderiv.risk.expected_return import BaseForecast, expected_returns, payoff_curves
from cryptoderiv.risk.stress import (
    COMMITTED_SCENARIOS,
    funding_shocks,
    historical_stress,
    load_historical_scenarios,
    measure_historical_scenarios,
    spot_vol_grid,
    time_decay,
)
from tests.unit.portfolio.support import reference_book


def test_grid_layout_totals_and_a_cell_by_revaluation() -> None:
    book = reference_book()
    grid = spot_vol_grid(book)
    totals = grid[grid["position_id"] == "TOTAL"]
    assert len(totals) == 11 * 9
    assert totals["spot_shock"].min() == -0.5 and totals["vol_shock_pts"].max() == 50
    cell = grid[grid["scenario"] == "spot-20%/vol+10"].set_index("position_id")["pnl_usd"]
    expected = revalue(book, [[0.8, 0.8]], [[0.1, 0.1]])[0] - revalue(book)[0]
    np.testing.assert_allclose(cell.loc[list(book.ids)].to_numpy(), expected, rtol=1e-12)
    assert cell["TOTAL"] == pytest.approx(expected.sum())


def test_time_decay_and_funding() -> None:
    book = reference_book()
    decay = time_decay(book).query("position_id == 'call-inv'").set_index("scenario")["pnl_usd"]
    assert 0 < decay["decay 1d"] < decay["decay 7d"] < decay["decay 30d"]  # short call earns theta
    fund = funding_shocks(book).set_index(["scenario", "position_id"])["pnl_usd"]
    # linear perp: short 1 coin at F = 90090: +50 % APR over 7 days pays the short q F 0.5 * 7 / 365
    assert fund[("funding +50% APR 7d", "perp-lin")] == pytest.approx(90090 * 0.5 * 7 / 365, rel=1e-12)
    assert fund[("funding +50% APR 7d", "spot")] == 0.0


def test_historical_days_replay_measured_moves(shared_market_dir) -> None:
    measured = measure_historical_scenarios(
        shared_market_dir / "binance_ohlcv_btc_eth",
        shared_market_dir / "perp_funding_basis_dvol" / "dvol_btc_daily_isayggyo_nolicense" / "dvol_btc.csv")
    committed = pd.read_csv(COMMITTED_SCENARIOS)
    pd.testing.assert_frame_equal(measured.reset_index(drop=True), committed, check_dtype=False, rtol=1e-9)
    covid = committed.query("date == '2020-03-12' and base == 'BTC'").iloc[0]
    assert covid["spot_return"] == pytest.approx(4800.0 / 7934.52 - 1)
    book = reference_book()
    out = historical_stress(book, load_historical_scenarios(None)).query("position_id == 'spot'")
    assert out.set_index("scenario").loc["2020-03-12", "pnl_usd"] == pytest.approx(1.5 * 90000 * covid["spot_return"])


def test_expected_return_components() -> None:
    book = reference_book()
    fc = {"BTC": BaseForecast(0.50, 0.20), "ETH": BaseForecast(0.60, 0.0)}
    er = expected_returns(book, fc, horizon_days=7, n_paths=40_000).set_index("position_id")
    h = 7 / 365
    assert er.loc["spot", "drift_usd"] == pytest.approx(1.5 * 90000 * 0.20 * h, rel=1e-6)
    assert er.loc["spot", "expected_pnl_usd"] == pytest.approx(1.5 * 90000 * np.expm1(0.20 * h), rel=0.05)
    assert er.loc["perp-lin", "carry_usd"] == pytest.approx(90090 * 0.10 * h, rel=1e-9)  # short receives
    # short call priced at 55 % with a 50 % forecast: positive VRP and theta
    assert er.loc["call-inv", "vrp_usd"] > 0 and er.loc["call-inv", "theta_usd"] > 0
    # the decomposition explains the simulated mean up to higher-order terms and Monte Carlo noise
    for pid in ("call-inv", "put-lin", "eth-put-inv"):
        assert abs(er.loc[pid, "residual_usd"]) < 0.02 * er.loc[pid, "std_p_usd"], pid
    assert er.loc["TOTAL", "carry_usd"] == pytest.approx(er.drop(index="TOTAL")["carry_usd"].sum())
    assert 0 < er.loc["TOTAL", "prob_profit_p"] < 1 and er.loc["TOTAL", "std_q_usd"] > 0


def test_payoff_curve_at_expiry_is_the_option_payoff() -> None:
    book = reference_book()
    curves = payoff_curves(book, points=21)
    put = curves.query("position_id == 'put-lin' and curve == 'expiry'")
    entry = 100.0  # the support book's entry price (USD per option)
    expected = 3.0 * (np.maximum(80000 - put["spot_usd"], 0) - entry)
    np.testing.assert_allclose(put["pnl_usd"], expected, rtol=1e-9, atol=1e-6)
    assert set(curves["position_id"]) >= {"TOTAL:BTC", "TOTAL:ETH"}
