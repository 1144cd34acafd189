"""Property-based tests (Hypothesis): no-arbitrage relations, signs of greeks, implied-volatility round trip."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptoderiv.pricing import black76, black_scholes
from cryptoderiv.pricing.implied_vol import IVReason, implied_vol_with_reason, vol_condition_number

EPS = 2.0**-52
PROFILE = settings(max_examples=150, deadline=None)

forwards = st.floats(1e-2, 1e6)
log_moneyness = st.floats(-3.0, 3.0)
expiries = st.floats(1.0 / (365 * 24), 30.0)
vols = st.floats(1e-3, 5.0)
discounts = st.floats(0.5, 1.0)
kinds = st.sampled_from(["call", "put"])


@PROFILE
@given(forwards, log_moneyness, expiries, vols, discounts)
def test_put_call_parity_black76(f: float, x: float, t: float, vol: float, d: float) -> None:
    k = f * math.exp(-x)
    call, put = black76.price(["call", "put"], f, k, t, vol, d)
    scale = call + put + d * (f + k)
    assert abs((call - put) - d * (f - k)) <= 8 * EPS * scale


@PROFILE
@given(forwards, log_moneyness, expiries, st.floats(-0.05, 0.2), vols, st.floats(-0.05, 0.15))
def test_put_call_parity_black_scholes(s: float, x: float, t: float, r: float, vol: float, q: float) -> None:
    k = s * math.exp(-x)
    call, put = black_scholes.price(["call", "put"], s, k, t, r, vol, q)
    lhs, rhs = call - put, s * math.exp(-q * t) - k * math.exp(-r * t)
    assert abs(lhs - rhs) <= 16 * EPS * (call + put + s * math.exp(-q * t) + k * math.exp(-r * t))


@PROFILE
@given(forwards, st.floats(-2.0, 2.0), expiries, vols, discounts, st.floats(1e-3, 0.3))
def test_call_decreasing_and_convex_in_strike(f: float, x: float, t: float, vol: float, d: float, step: float) -> None:
    k_mid = f * math.exp(-x)
    strikes = k_mid * np.array([1 - step, 1.0, 1 + step])
    c = black76.price("call", f, strikes, t, vol, d)
    tol = 16 * EPS * d * f
    assert c[0] >= c[1] - tol and c[1] >= c[2] - tol
    assert c[0] - 2 * c[1] + c[2] >= -4 * tol
    # and bounded by the no-arbitrage limits
    assert np.all(c >= np.maximum(d * (f - strikes), 0.0) - tol) and np.all(c <= d * f + tol)


@PROFILE
@given(kinds, forwards, log_moneyness, expiries, vols, discounts)
def test_signs_and_bounds_of_greeks(kind: str, f: float, x: float, t: float, vol: float, d: float) -> None:
    g = black76.price_and_greeks(kind, f, f * math.exp(-x), t, vol, d)
    assert g["vega"] >= 0 and g["gamma"] >= 0 and g["price"] >= 0
    if kind == "call":
        assert 0.0 <= g["delta"] <= d
    else:
        assert -d <= g["delta"] <= 0.0
    bumped = black76.price(kind, f, f * math.exp(-x), t, vol * 1.01, d)
    assert bumped >= g["price"] * (1 - 8 * EPS)  # price increases with volatility


@PROFILE
@given(kinds, forwards, log_moneyness, expiries, vols, discounts)
def test_implied_vol_inverts_price(kind: str, f: float, x: float, t: float, vol: float, d: float) -> None:
    k = f * math.exp(-x)
    price = black76.price(kind, f, k, t, vol, d)
    res = implied_vol_with_reason(kind, price, f, k, t, d)
    kappa = vol_condition_number(kind, f, k, t, vol, d)
    if price >= 1e-300 and kappa < 1e10:
        assert res.reason == IVReason.OK
        assert abs(res.vol / vol - 1) <= 16 * max(kappa, 1.0) * EPS
    elif res.reason == IVReason.ABOVE_UPPER_BOUND:  # the price rounded onto D F (call) / D K (put)
        assert price >= d * (f if kind == "call" else k) * (1 - 4 * EPS)
    else:  # no information left in a float64 price: still a valid solution, or exactly intrinsic
        assert res.reason in (IVReason.OK, IVReason.ZERO_TIME_VALUE)
        repriced = black76.price(kind, f, k, t, res.vol, d)
        assert abs(repriced - price) <= 8 * EPS * max(price, d * abs(f - k)) + 1e-300
