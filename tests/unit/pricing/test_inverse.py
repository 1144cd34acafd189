"""Inverse (coin-settled) options: coin/USD conversions, coin greeks, IV from a coin premium."""

from __future__ import annotations

import numpy as np
import pytest

from cryptoderiv.pricing import black76, inverse
from cryptoderiv.pricing.implied_vol import IVReason, vol_condition_number

F, K, T, VOL = 88_728.94666666667, np.array([60_000.0, 82_000.0, 90_000.0, 130_000.0]), 0.0454, 0.4323


def test_premium_conversions_round_trip() -> None:
    usd = black76.price("call", F, K, T, VOL)
    coin = inverse.usd_to_coin(usd, F)
    assert coin == pytest.approx(usd / F, rel=1e-15)
    assert inverse.coin_to_usd(coin, F) == pytest.approx(usd, rel=1e-15)
    assert np.isnan(inverse.usd_to_coin(1.0, 0.0)) and np.isnan(inverse.coin_to_usd(1.0, -5.0))
    assert isinstance(inverse.usd_to_coin(10.0, 100.0), np.float64)


def test_coin_price_is_black_over_forward_and_respects_coin_bounds() -> None:
    for kind in ("call", "put"):
        pc = inverse.price(kind, F, K, T, VOL)
        assert pc == pytest.approx(black76.price(kind, F, K, T, VOL) / F, rel=1e-15)
    deep = inverse.price("call", F, 1.0, T, VOL)
    assert deep == pytest.approx(1.0 - 1.0 / F, rel=1e-12)  # a zero-strike call is worth one coin
    assert np.all(inverse.price("call", F, K, 5.0, 2.0) < 1.0)
    assert np.all(inverse.price("put", F, K, 5.0, 2.0) < K / F)


def test_implied_vol_from_coin_premium_round_trips() -> None:
    rng = np.random.default_rng(8)
    n = 5000
    kind = np.where(rng.random(n) < 0.5, "call", "put")
    strike = F * np.exp(rng.uniform(-0.6, 0.6, n))
    t = rng.uniform(1 / 365, 1.0, n)
    vol = rng.uniform(0.2, 1.5, n)
    pc = inverse.price(kind, F, strike, t, vol)
    res = inverse.implied_vol_with_reason_coin(kind, pc, F, strike, t)
    kappa = vol_condition_number(kind, F, strike, t, vol)
    ok = kappa < 1e8
    assert ok.mean() > 0.98 and np.all(res.reason[ok] == IVReason.OK)
    err = np.abs(res.vol[ok] / vol[ok] - 1)
    # V/F and back to USD add two roundings to the price: 32 kappa eps
    assert np.all(err <= 32 * np.maximum(kappa[ok], 1) * 2.0**-52)
    assert np.median(err) < 1e-15
    assert inverse.implied_vol("call", pc[0], F, strike[0], t[0]) == res.vol[0]
    # a call premium of a whole coin or more is above the bound
    assert inverse.implied_vol_with_reason_coin("call", 1.0, F, 80_000.0, 0.1).reason == IVReason.ABOVE_UPPER_BOUND


def test_deribit_greeks_and_adjusted_delta() -> None:
    g = inverse.greeks(["call", "put", "call", "put"], F, K, T, VOL)
    usd = black76.price_and_greeks(["call", "put", "call", "put"], F, K, T, VOL)
    assert g["price_coin"] == pytest.approx(usd["price"] / F, rel=1e-15)
    for key in ("delta", "gamma", "vega", "theta", "rho", "vanna", "volga"):
        assert np.array_equal(g[key], usd[key])
    assert g["delta_adjusted"] == pytest.approx(g["delta"] - g["price_coin"], rel=1e-15)
    # undiscounted forward delta: call - put = 1 (Deribit's per-option convention)
    assert g["delta"][0] - inverse.greeks("put", F, K[0], T, VOL)["delta"] == pytest.approx(1.0, rel=1e-14)


def test_coin_greeks_are_derivatives_of_the_coin_premium() -> None:
    kinds = ["call", "put", "call", "put"]
    usd = black76.price_and_greeks(kinds, F, K, T, VOL)
    coin = inverse.greeks_to_coin(usd, F)
    h_f, h_v = F * 1e-4, 1e-4

    def pc(f: float, v: float) -> np.ndarray:
        return inverse.price(kinds, f, K, T, v)

    small = F * 1e-6
    d_f = (pc(F + small, VOL) - pc(F - small, VOL)) / (2 * small)
    d2_f = (pc(F + h_f, VOL) - 2 * pc(F, VOL) + pc(F - h_f, VOL)) / h_f**2
    d_v = (pc(F, VOL + 1e-6) - pc(F, VOL - 1e-6)) / 2e-6
    d_fv = (pc(F + h_f, VOL + h_v) - pc(F + h_f, VOL - h_v) - pc(F - h_f, VOL + h_v) + pc(F - h_f, VOL - h_v)) / (
        4 * h_f * h_v
    )
    assert coin["price"] == pytest.approx(usd["price"] / F, rel=1e-15)
    assert coin["delta"] == pytest.approx(d_f, rel=1e-6)
    assert coin["gamma"] == pytest.approx(d2_f, rel=1e-4)
    assert coin["vega"] == pytest.approx(d_v, rel=1e-6)
    assert coin["vanna"] == pytest.approx(d_fv, rel=1e-4)
    assert coin["delta_adjusted"] == pytest.approx(F * coin["delta"], rel=1e-12)
    assert set(inverse.greeks_to_coin({"price": 1.0, "delta": 0.5}, 100.0)) == {"price", "delta", "delta_adjusted"}


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="forward"):
        inverse.usd_to_coin(1.0, "x")
    with pytest.raises(ValueError, match="kind"):
        inverse.implied_vol("both", 0.1, F, 90_000.0, 0.1)
