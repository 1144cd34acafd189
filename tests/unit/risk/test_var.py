"""VaR/ES estimators and scenario generators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cryptoderiv.pricing.heston import HestonParams
from cryptoderiv.risk.var import (
    InsufficientHistory,
    ewma_volatility,
    fhs_scenarios,
    hs_scenarios,
    mc_heston_scenarios,
    parametric_var,
    scenario_var,
    var_es,
)
from tests.unit.portfolio.support import reference_book


def returns(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=n, freq="D")
    z = rng.standard_normal((n, 2)) @ np.linalg.cholesky([[1, 0.8], [0.8, 1]]).T
    return pd.DataFrame(z * [0.03, 0.04], index=idx, columns=["BTC", "ETH"])


def test_var_es_of_a_normal_sample_matches_the_closed_form() -> None:
    pnl = np.random.default_rng(0).normal(0.0, 100.0, 400_000)
    v, e = var_es(pnl, 0.99)
    assert v == pytest.approx(100 * stats.norm.ppf(0.99), rel=0.01)
    assert e == pytest.approx(100 * stats.norm.pdf(stats.norm.ppf(0.99)) / 0.01, rel=0.01)


def test_hs_uses_the_window_and_overlapping_sums() -> None:
    r = returns()
    one = hs_scenarios(r, 1, window=500)
    ten = hs_scenarios(r, 10, window=500)
    assert len(one) == 500 and len(ten) == 491
    np.testing.assert_allclose(np.log(ten.spot_mult[0]), r.iloc[100:110].sum().to_numpy())
    with pytest.raises(InsufficientHistory):
        hs_scenarios(r.iloc[:10], 1)


def test_fhs_rescales_to_the_current_volatility() -> None:
    r = returns()
    r.iloc[-60:] *= 3.0  # a recent volatility burst
    hs, fhs = hs_scenarios(r, 1), fhs_scenarios(r, 1)
    assert np.std(np.log(fhs.spot_mult[:, 0])) > 1.5 * np.std(np.log(hs.spot_mult[:, 0]))
    sig = ewma_volatility(r)
    assert sig.iloc[1, 0] == pytest.approx(np.sqrt(0.94 * sig.iloc[0, 0] ** 2 + 0.06 * r.iloc[0, 0] ** 2))


def test_mc_heston_with_zero_vol_of_vol_is_lognormal() -> None:
    p = HestonParams(0.49, 2.0, 0.49, 0.0, 0.0)
    sc = mc_heston_scenarios({"BTC": p}, 10, ["BTC"], n_paths=200_000, seed=1)
    logs = np.log(sc.spot_mult[:, 0])
    assert logs.std() == pytest.approx(0.7 * np.sqrt(10 / 365), rel=0.01)
    assert np.allclose(sc.vol_shift, 0.0)


def test_portfolio_var_orders_and_parametric_comparison() -> None:
    book = reference_book()
    r = returns()
    figs = {(f.horizon_days, f.level): f for h in (1, 10) for f in scenario_var(book, hs_scenarios(r, h), "hs", h)}
    assert figs[(1, 0.99)].var_usd > figs[(1, 0.95)].var_usd > 0
    assert figs[(10, 0.99)].var_usd > figs[(1, 0.99)].var_usd
    assert all(f.es_usd >= f.var_usd for f in figs.values())
    par = parametric_var({"BTC": 100_000.0}, r, 1)
    assert par[1].var_usd == pytest.approx(100_000 * r["BTC"].iloc[-500:].std() * stats.norm.ppf(0.99), rel=1e-9)
