"""Implied volatility: machine precision on a million options, mpmath prices, extreme cases, reason codes.

Well-conditioned, used below: the relative condition number of the volatility with respect to the price,
``kappa = V / (sigma dV/dsigma)`` (``implied_vol.vol_condition_number``), is at most 100, and the price is a
normal float64 (``>= 1e-300``).  A float64 price carries a relative rounding of 1.1e-16, so no method can do
better than about ``kappa * 1.1e-16``; the assertions are stated against that bound.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.pricing import black76
from cryptoderiv.pricing.implied_vol import (
    ImpliedVolResult,
    IVReason,
    implied_vol,
    implied_vol_black_scholes,
    implied_vol_with_reason,
    vol_condition_number,
)

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "black_reference.csv"
EPS = 2.0**-52
SEED = 20240611


def million_options(n: int = 1_000_000, seed: int = SEED) -> dict[str, np.ndarray]:
    """The benchmark set (same definition as ``benchmarks/bench_implied_vol.py``).

    log-moneyness ``ln(F/K)`` uniform in [-0.5, 0.5], expiry uniform in [7 days, 2 years], volatility uniform in
    [5 %, 150 %], calls and puts with probability 1/2, ``F = 100``, undiscounted.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.5, 0.5, n)
    t = rng.uniform(7 / 365, 2.0, n)
    vol = rng.uniform(0.05, 1.5, n)
    kind = np.where(rng.random(n) < 0.5, "call", "put")
    forward = np.full(n, 100.0)
    return {"kind": kind, "forward": forward, "strike": forward * np.exp(-x), "t": t, "vol": vol}


@pytest.fixture(scope="module")
def round_trip() -> dict[str, np.ndarray]:
    opts = million_options()
    price = black76.price(opts["kind"], opts["forward"], opts["strike"], opts["t"], opts["vol"])
    res = implied_vol_with_reason(opts["kind"], price, opts["forward"], opts["strike"], opts["t"])
    kappa = vol_condition_number(opts["kind"], opts["forward"], opts["strike"], opts["t"], opts["vol"])
    err = np.abs(res.vol - opts["vol"]) / opts["vol"]
    return {"err": err, "kappa": kappa, "price": price, "reason": res.reason, **opts}


def test_million_round_trip_machine_precision_where_well_conditioned(round_trip: dict[str, np.ndarray]) -> None:
    well = (round_trip["kappa"] <= 100) & (round_trip["price"] >= 1e-300)
    err = round_trip["err"][well]
    assert well.mean() > 0.95
    assert np.all(round_trip["reason"][well] == IVReason.OK)
    assert np.median(err) <= 1e-15
    assert np.percentile(err, 99) <= 1e-12
    assert err.max() <= 1e-13


def test_million_round_trip_error_follows_the_condition_number(round_trip: dict[str, np.ndarray]) -> None:
    """Everywhere the price is a normal number the error is below 16 kappa eps (pricer + solver rounding)."""
    ok = (round_trip["reason"] == IVReason.OK) & (round_trip["price"] >= 1e-300)
    assert ok.mean() > 0.99
    bound = 16 * np.maximum(round_trip["kappa"][ok], 1.0) * EPS
    assert np.all(round_trip["err"][ok] <= bound)
    # what is not OK has no time value left in float64 (deep in the money, tiny s): vol 0, not an error
    not_ok = round_trip["reason"] != IVReason.OK
    assert np.all(round_trip["reason"][not_ok] == IVReason.ZERO_TIME_VALUE)
    assert np.all(round_trip["kappa"][not_ok] > 1e12)


def test_implied_vol_of_mpmath_prices() -> None:
    """Volatilities recovered from 60-digit prices (independent of our pricer) to a few kappa * eps."""
    ref = pd.read_csv(REFERENCE)
    ref = ref[(ref.model == "black76") & (ref.price.abs() >= 1e-300)]
    res = implied_vol_with_reason(
        ref.kind.to_numpy(), ref.price.to_numpy(), ref.underlying.to_numpy(), ref.strike.to_numpy(),
        ref.t.to_numpy(), ref.discount_factor.to_numpy(),
    )  # fmt: skip
    kappa = ref.kappa.to_numpy()
    solvable = kappa <= 1e6
    assert solvable.sum() > 600
    assert np.all(res.reason[solvable] == IVReason.OK)
    err = np.abs(res.vol[solvable] / ref.vol.to_numpy()[solvable] - 1)
    assert np.all(err <= 8 * np.maximum(kappa[solvable], 1.0) * EPS)
    # rows whose 60-digit price rounds onto (or past) a no-arbitrage bound are flagged, never mis-solved
    others = res.reason[~solvable]
    allowed = {IVReason.OK, IVReason.ZERO_TIME_VALUE, IVReason.BELOW_INTRINSIC, IVReason.ABOVE_UPPER_BOUND}
    assert set(np.unique(others)) <= allowed


@pytest.mark.parametrize("target", [1e-25, 1e-60, 1e-100, 1e-200, 1e-300])
def test_deep_out_of_the_money_prices_solve(target: float) -> None:
    # find vols whose prices are ~target for a range of strikes and expiries, then invert the exact prices
    forward, strikes, t = 100.0, np.array([105.0, 130.0, 200.0, 1000.0]), np.array([1 / 365, 0.1, 1.0, 5.0])
    k, tt = np.meshgrid(strikes, t)
    x = math.log(1.0) - np.log(k / forward)
    s = np.sqrt(x * x / (2 * math.log(1 / target)))  # leading order of b ~ exp(-x^2 / 2 s^2)
    vol = s / np.sqrt(tt)
    price = black76.price("call", forward, k, tt, vol)
    assert np.all(price > 0)
    res = implied_vol_with_reason("call", price, forward, k, tt)
    assert np.all(res.reason == IVReason.OK)
    assert np.max(np.abs(res.vol / vol - 1)) < 1e-14
    # repricing: far in the tail the price moves by (x/s)^2 times the relative change of the vol
    assert np.max(np.abs(black76.price("call", forward, k, tt, res.vol) / price - 1)) < 1e-12


def test_one_day_expiries_and_huge_vols() -> None:
    rng = np.random.default_rng(2)
    n = 20_000
    kind = np.where(rng.random(n) < 0.5, "call", "put")
    t = np.where(rng.random(n) < 0.5, 1 / 365, rng.uniform(1.0, 5.0, n))
    vol = np.where(t < 0.01, rng.uniform(0.05, 3.0, n), rng.uniform(1.0, 5.0, n))
    strike = 100 * np.exp(rng.uniform(-1, 1, n) * vol * np.sqrt(t) * 2)
    price = black76.price(kind, 100.0, strike, t, vol)
    kappa = vol_condition_number(kind, 100.0, strike, t, vol)
    res = implied_vol_with_reason(kind, price, 100.0, strike, t)
    ok = kappa < 1e8
    assert ok.mean() > 0.9
    assert np.all(res.reason[ok] == IVReason.OK)
    assert np.all(np.abs(res.vol[ok] / vol[ok] - 1) <= 8 * np.maximum(kappa[ok], 1) * EPS)
    assert vol.max() > 4.9


@pytest.mark.parametrize("x", [0.0, 1e-14, -1e-14, 1e-8, -1e-8, 1e-4])
def test_at_and_next_to_the_money(x: float) -> None:
    for t, vol in [(1 / 365, 0.3), (1.0, 0.05), (2.0, 1.5), (10.0, 2.0)]:
        for kind in ("call", "put"):
            strike = 100.0 * math.exp(-x)
            price = black76.price(kind, 100.0, strike, t, vol, 0.98)
            kappa = vol_condition_number(kind, 100.0, strike, t, vol, 0.98)
            got = implied_vol(kind, price, 100.0, strike, t, 0.98)
            assert got == pytest.approx(vol, rel=8 * max(kappa, 1.0) * EPS)


def test_close_to_the_upper_bound() -> None:
    # huge total volatility: the call is worth almost D F, the put almost D K
    for vol in (3.0, 6.0, 10.0):
        t = 8.0
        for kind, strike in (("call", 80.0), ("put", 120.0), ("call", 150.0)):
            price = black76.price(kind, 100.0, strike, t, vol)
            kappa = vol_condition_number(kind, 100.0, strike, t, vol)
            got = implied_vol(kind, price, 100.0, strike, t)
            if kappa < 1e10:
                assert got == pytest.approx(vol, rel=max(8 * kappa * EPS, 1e-15))


def test_reason_codes() -> None:
    res = implied_vol_with_reason(
        ["call", "call", "call", "put", "call", "put", "call", "call", "call"],
        [10.0, 4.0, 100.0, 20.0, 5.0, np.nan, 1.0, 1.0, 1.0],
        [100.0, 100.0, 100.0, 100.0, 100.0, 100.0, -1.0, 100.0, 100.0],
        [95.0, 95.0, 95.0, 120.0, 95.0, 100.0, 95.0, 95.0, 95.0],
        [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0, 0.5],
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
    )
    assert isinstance(res, ImpliedVolResult)
    assert res.reason.dtype == np.int8
    expected = [
        IVReason.OK,                 # time value 5
        IVReason.BELOW_INTRINSIC,    # 4 < 5 = F - K
        IVReason.ABOVE_UPPER_BOUND,  # a call is worth less than D F
        IVReason.ZERO_TIME_VALUE,    # put exactly at intrinsic 20
        IVReason.ZERO_TIME_VALUE,    # call exactly at intrinsic 5
        IVReason.INVALID_INPUT,      # NaN price
        IVReason.INVALID_INPUT,      # negative forward
        IVReason.INVALID_INPUT,      # t = 0
        IVReason.INVALID_INPUT,      # discount factor 0
    ]  # fmt: skip
    assert list(res.reason) == expected
    assert res.vol[0] > 0 and res.vol[3] == 0.0 and res.vol[4] == 0.0
    assert np.all(np.isnan(res.vol[[1, 2, 5, 6, 7, 8]]))
    assert list(res.ok) == [True, False, False, True, True, False, False, False, False]
    expected_counts = {"OK": 1, "ZERO_TIME_VALUE": 2, "BELOW_INTRINSIC": 1, "ABOVE_UPPER_BOUND": 1, "INVALID_INPUT": 4}
    assert res.counts() == expected_counts


def test_shapes_and_errors() -> None:
    price = black76.price("call", 100.0, np.array([[90.0], [110.0]]), np.array([0.5, 1.0, 2.0]), 0.4)
    res = implied_vol_with_reason("call", price, 100.0, np.array([[90.0], [110.0]]), np.array([0.5, 1.0, 2.0]))
    assert res.vol.shape == res.reason.shape == (2, 3)
    assert np.allclose(res.vol, 0.4, rtol=1e-14)
    assert isinstance(implied_vol("call", 10.0, 100.0, 100.0, 1.0), np.float64)
    with pytest.raises(ValueError, match="kind"):
        implied_vol("forward", 10.0, 100.0, 100.0, 1.0)
    with pytest.raises(ValueError, match="price"):
        implied_vol("call", "ten", 100.0, 100.0, 1.0)
    with pytest.raises(ValueError, match="do not broadcast"):
        implied_vol("call", [1.0, 2.0], [100.0, 100.0, 100.0], 100.0, 1.0)


def test_black_scholes_wrapper_round_trip() -> None:
    from cryptoderiv.pricing import black_scholes

    rng = np.random.default_rng(4)
    n = 2000
    kind = np.where(rng.random(n) < 0.5, "call", "put")
    strike, t = 100 * np.exp(rng.uniform(-0.5, 0.5, n)), rng.uniform(0.05, 3, n)
    r, q, vol = rng.uniform(-0.01, 0.08, n), rng.uniform(0, 0.04, n), rng.uniform(0.1, 1.0, n)
    price = black_scholes.price(kind, 100.0, strike, t, r, vol, q)
    res = implied_vol_black_scholes(kind, price, 100.0, strike, t, r, q)
    kappa = vol_condition_number(kind, 100 * np.exp((r - q) * t), strike, t, vol, np.exp(-r * t))
    ok = kappa < 1e6
    # the forward S e^{(r-q)t} is rounded once more than inside black_scholes.price
    assert np.all(np.abs(res.vol[ok] / vol[ok] - 1) <= 64 * np.maximum(kappa[ok], 1) * EPS)


def test_condition_number() -> None:
    kappa = vol_condition_number("call", 100.0, [100.0, 300.0, 30.0], 1.0, 0.2)
    assert kappa[0] == pytest.approx(1.0, abs=0.02)  # at the money V ~ sigma dV/dsigma
    assert kappa[1] < 0.1  # far out of the money: the price pins the vol down tightly
    assert kappa[2] > 1e6  # deep in the money: the price is almost all intrinsic


def test_huge_scales_do_not_underflow_or_overflow() -> None:
    # F K overflows float64 and b = V / (D sqrt(F K)) is subnormal while V itself is an ordinary number
    forward = 1e150
    strike = forward * np.exp([10.11, 12.0, -10.0])
    kind = ["call", "call", "put"]
    t, vol = 1.0, np.array([0.2657, 0.3, 0.26])
    price = black76.price(kind, forward, strike, t, vol)
    assert np.all(np.isfinite(price)) and np.all(price > 1e-290)
    kappa = vol_condition_number(kind, forward, strike, t, vol)
    res = implied_vol_with_reason(kind, price, forward, strike, t)
    assert np.all(res.reason == IVReason.OK)
    assert np.all(np.abs(res.vol / vol - 1) <= 16 * np.maximum(kappa, 1) * EPS)
