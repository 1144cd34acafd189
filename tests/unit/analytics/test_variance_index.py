"""Variance index (Cboe / DVOL method): hand-computed strips, flat vol, mpmath references, 30-day weights."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtr

from cryptoderiv.analytics.variance_index import (
    ExpiryVariance,
    VarianceIndexError,
    expiry_variance,
    interpolate_variance,
    variance_index,
)
from cryptoderiv.surface.chain import OptionChain
from cryptoderiv.surface.svi import SVIParams

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "variance_strip_reference.json"


def _black(is_call: np.ndarray, f: float, k: np.ndarray, t: float, vol: np.ndarray) -> np.ndarray:
    """Independent undiscounted Black-76 (test helper)."""
    sw = vol * math.sqrt(t)
    d1 = np.log(f / k) / sw + 0.5 * sw
    d2 = d1 - sw
    call = f * ndtr(d1) - k * ndtr(d2)
    return np.where(is_call, call, call - (f - k))


def _strip(f: float, t: float, vol_fn, strikes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vol = vol_fn(np.log(strikes / f))
    return _black(np.ones_like(strikes, bool), f, strikes, t, vol), _black(np.zeros_like(strikes, bool), f,
                                                                          strikes, t, vol)


def test_hand_computed_three_strike_strip() -> None:
    # K = 90, 100, 110; F = 102 -> K0 = 100; Q = put 2 at 90, (call 5 + put 3)/2 = 4 at 100, call 1 at 110
    strikes = np.array([90.0, 100.0, 110.0])
    calls = np.array([np.nan, 5.0, 1.0])
    puts = np.array([2.0, 3.0, np.nan])
    t = 0.1
    res = expiry_variance(strikes, calls, puts, 102.0, t)
    expected = (2 / t) * (10 / 90**2 * 2 + 10 / 100**2 * 4 + 10 / 110**2 * 1) - (102 / 100 - 1) ** 2 / t
    assert res.k0 == 100.0
    assert res.n_strikes == 3
    assert res.variance == pytest.approx(expected, rel=1e-14)


def test_discount_factor_scales_prices_by_exp_rt() -> None:
    strikes = np.array([90.0, 100.0, 110.0])
    calls = np.array([np.nan, 5.0, 1.0])
    puts = np.array([2.0, 3.0, np.nan])
    a = expiry_variance(strikes, calls, puts, 100.0, 0.1)
    b = expiry_variance(strikes, calls * 0.9, puts * 0.9, 100.0, 0.1, discount_factor=0.9)
    assert b.variance == pytest.approx(a.variance, rel=1e-14)


def test_zero_bid_rule_stops_after_two_consecutive_zero_bids() -> None:
    strikes = np.arange(60.0, 141.0, 10.0)                       # 60 .. 140, F = 100 -> K0 = 100
    calls = np.where(strikes >= 100, 1.0, np.nan)
    puts = np.where(strikes <= 100, 1.0, np.nan)
    #                    60   70   80   90   100
    put_bids = np.array([1.0, 0.0, 0.0, 1.0, 1.0, np.nan, np.nan, np.nan, np.nan])
    #                                     100  110  120  130  140
    call_bids = np.array([np.nan] * 4 + [1.0, 1.0, 0.0, 1.0, 0.0])
    res = expiry_variance(strikes, calls, puts, 100.0, 0.1, call_bids=call_bids, put_bids=put_bids)
    # puts downwards from K0 = 100: 90 kept, 80 and 70 zero bids -> stop (60 excluded although it has a bid).
    # calls upwards: 110 kept, 120 skipped (single zero), 130 kept, 140 skipped. Strip: 90, 100, 110, 130.
    assert res.n_strikes == 4
    assert expiry_variance(strikes, calls, puts, 100.0, 0.1).n_strikes == 9


def test_flat_volatility_strip_recovers_the_volatility() -> None:
    f, t, sigma = 90_000.0, 30 / 365, 0.55
    strikes = np.arange(20_000.0, 400_001.0, 250.0)
    calls, puts = _strip(f, t, lambda k: np.full_like(k, sigma), strikes)
    res = expiry_variance(strikes, calls, puts, f, t)
    assert math.sqrt(res.variance) == pytest.approx(sigma, abs=2e-4)


@pytest.mark.parametrize("case", json.loads(REFERENCE.read_text())["cases"], ids=lambda c: c["name"])
def test_dense_strip_matches_mpmath_continuous_integral(case: dict) -> None:
    p = SVIParams(**case["svi"])
    t = case["t"]
    f = 100.0
    strikes = f * np.exp(np.linspace(-4.0, 4.0, 8001))
    calls, puts = _strip(f, t, lambda k: np.sqrt(p.total_variance(k) / t), strikes)
    res = expiry_variance(strikes, calls, puts, f, t)
    assert math.sqrt(res.variance) == pytest.approx(case["model_free_vol"], abs=1e-4)


def test_thirty_day_interpolation_weights() -> None:
    near = ExpiryVariance(t=20 / 365, variance=0.16, k0=1.0, forward=1.0, n_strikes=10)
    nxt = ExpiryVariance(t=50 / 365, variance=0.25, k0=1.0, forward=1.0, n_strikes=10)
    h = 30 / 365
    expected = (near.t * 0.16 * (20 / 30) + nxt.t * 0.25 * (10 / 30)) / h
    assert interpolate_variance(near, nxt, h) == pytest.approx(expected, rel=1e-14)
    # when the two expiries have the same vol, the 30-day vol is that vol
    same = ExpiryVariance(t=50 / 365, variance=0.16, k0=1.0, forward=1.0, n_strikes=10)
    assert interpolate_variance(near, same, h) == pytest.approx(0.16, rel=1e-14)


def _flat_chain(sigma: float, days: list[float], f: float = 90_000.0) -> OptionChain:
    ts, ks, calls = [], [], []
    strikes = np.arange(20_000.0, 400_001.0, 500.0)
    for d in days:
        for is_call in (True, False):
            ts.append(np.full(strikes.size, d / 365))
            ks.append(strikes)
            calls.append(np.full(strikes.size, is_call))
    t = np.concatenate(ts)
    k = np.concatenate(ks)
    c = np.concatenate(calls)
    price = np.concatenate([_black(cc, f, kk, tt[0], np.full(kk.size, sigma)) for tt, kk, cc in zip(ts, ks, calls,
                                                                                                  strict=True)])
    return OptionChain(t=t, strike=k, forward=np.full(t.size, f), is_call=c, bid=price * 0.99, ask=price * 1.01,
                       mark=price, mark_iv=np.full(t.size, sigma), open_interest=np.ones(t.size),
                       volume=np.zeros(t.size), spot=f)


def test_flat_surface_index_equals_the_volatility() -> None:
    chain = _flat_chain(0.48, [0.5, 9.0, 23.0, 51.0, 86.0])
    for price in ("mark", "mid"):
        vi = variance_index(chain, price=price)
        assert vi.value == pytest.approx(0.48, abs=3e-4)
    vi = variance_index(chain)
    assert vi.near.t == pytest.approx(23 / 365) and vi.next.t == pytest.approx(51 / 365)  # brackets 30 days
    assert vi.points == pytest.approx(100 * vi.value)


def test_window_sd_cuts_wings_and_stays_close_for_flat_vol() -> None:
    chain = _flat_chain(0.5, [23.0, 51.0])
    full = variance_index(chain)
    cut = variance_index(chain, window_sd=2.5)
    assert cut.near.n_strikes < full.near.n_strikes
    # +-2.5 sd holds ~98.8 % of the variance of a flat smile: a few tenths of a vol point lower
    assert 0.0 < full.value - cut.value < 0.01


def test_single_side_expiries_extrapolate_and_errors() -> None:
    chain = _flat_chain(0.5, [40.0, 60.0])
    assert variance_index(chain).value == pytest.approx(0.5, abs=3e-4)
    with pytest.raises(VarianceIndexError):
        variance_index(chain, min_days=100.0)
    with pytest.raises(VarianceIndexError):
        expiry_variance([100.0, 110.0], [1.0, 0.5], [np.nan, np.nan], 90.0, 0.1)  # no strike <= F
