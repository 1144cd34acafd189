"""Heston pricing: published and high-precision references, properties, gradient, API behaviour."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptoderiv.pricing import black_scholes, heston
from cryptoderiv.pricing.heston import HestonParameterError, HestonParams

REFERENCE_CSV = Path(__file__).resolve().parents[2] / "reference" / "heston_reference.csv"
ABS_TOL = 1e-9


def _load_reference() -> list[dict[str, str]]:
    with REFERENCE_CSV.open() as fh:
        return list(csv.DictReader(fh))


def _price_rows(rows: list[dict[str, str]]) -> np.ndarray:
    def col(name: str) -> np.ndarray:
        return np.array([float(r[name]) for r in rows])

    return heston.price(np.array([r["kind"] for r in rows]), col("spot"), col("strike"), col("t"), col("rate"),
                        col("div_yield"), col("v0"), col("kappa"), col("theta"), col("sigma"), col("rho"))  # fmt: skip


# ---------------------------------------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------------------------------------


def test_reference_file_is_complete() -> None:
    rows = _load_reference()
    cases = {r["case"] for r in rows}
    assert {"lewis2000", "fang_oosterlee_T1", "fang_oosterlee_T10", "andersen_case1", "andersen_case2",
            "andersen_case3", "kahl_jaeckel"} <= cases  # fmt: skip
    assert sum(c.startswith("crypto") for c in cases) >= 15
    # the two independent references agree with each other
    for r in rows:
        assert abs(float(r["price_mpmath"]) - float(r["price_quantlib"])) < 1e-9, r["case"]
        assert float(r["mp_error_estimate"]) < 1e-15


@pytest.mark.parametrize("group", ["lewis2000", "fang_oosterlee", "andersen", "kahl_jaeckel", "crypto"])
def test_prices_match_high_precision_reference(group: str) -> None:
    rows = [r for r in _load_reference() if r["case"].startswith(group)]
    assert rows
    ours = _price_rows(rows)
    ref = np.array([float(r["price_mpmath"]) for r in rows])
    err = np.abs(ours - ref)
    worst = int(np.argmax(err))
    assert err[worst] <= ABS_TOL, (rows[worst]["case"], rows[worst]["kind"], rows[worst]["strike"], err[worst])


def test_prices_match_published_numbers() -> None:
    rows = [r for r in _load_reference() if r["price_published"]]
    assert len(rows) >= 13
    ours = _price_rows(rows)
    for r, p in zip(rows, ours, strict=True):
        tol = max(float(r["published_abs_tol"]), 1e-12)
        assert abs(p - float(r["price_published"])) <= tol, (r["case"], r["kind"], r["strike"], p)


def test_lewis_scalar_call_and_put() -> None:
    call = heston.price("call", 100.0, 100.0, 1.0, 0.01, 0.02, 0.04, 4.0, 0.25, 1.0, -0.5)
    put = heston.price("put", 100.0, 100.0, 1.0, 0.01, 0.02, 0.04, 4.0, 0.25, 1.0, -0.5)
    assert isinstance(call, float)
    assert call == pytest.approx(16.070154917028834, abs=1e-12)
    assert put == pytest.approx(17.055270961270109, abs=1e-12)


# ---------------------------------------------------------------------------------------------------------
# Characteristic function
# ---------------------------------------------------------------------------------------------------------


def test_characteristic_function_normalisation_and_martingale() -> None:
    p = HestonParams(0.5, 3.0, 0.4, 2.5, -0.7)
    for t in (1 / 365, 0.5, 10.0):
        phi = heston.characteristic_function(np.array([0.0, -1j]), t, p)
        np.testing.assert_allclose(phi, [1.0, 1.0], atol=1e-13)


def test_characteristic_function_zero_vol_of_variance_is_gaussian() -> None:
    p = HestonParams(0.09, 2.0, 0.04, 0.0, -0.5)
    t = 0.75
    w = HestonParams(0.09, 2.0, 0.04, 0.0, -0.5).expected_variance(t) * t
    u = np.linspace(-20, 20, 41)
    expected = np.exp(-0.5 * w * (u * u + 1j * u))
    np.testing.assert_allclose(heston.characteristic_function(u, t, p), expected, rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------------------------------------
# Properties (hypothesis)
# ---------------------------------------------------------------------------------------------------------

params_st = st.builds(
    HestonParams,
    v0=st.floats(0.005, 1.2),
    kappa=st.floats(0.1, 12.0),
    theta=st.floats(0.005, 1.2),
    sigma=st.floats(0.0, 3.0),
    rho=st.floats(-0.95, 0.5),
)
t_st = st.floats(1.0 / 365.0, 5.0)
rate_st = st.floats(-0.02, 0.1)


@settings(max_examples=60, deadline=None)
@given(p=params_st, t=t_st, r=rate_st, q=rate_st, m=st.floats(-2.5, 2.5))
def test_put_call_parity(p: HestonParams, t: float, r: float, q: float, m: float) -> None:
    s = 100.0
    k = s * math.exp(m * math.sqrt(max(p.v0, p.theta) * t))
    args = (s, k, t, r, q, p.v0, p.kappa, p.theta, p.sigma, p.rho)
    call = heston.price("call", *args)
    put = heston.price("put", *args)
    assert call - put == pytest.approx(s * math.exp(-q * t) - k * math.exp(-r * t), abs=1e-10)


@settings(max_examples=60, deadline=None)
@given(p=params_st, t=t_st, r=rate_st, q=rate_st)
def test_call_decreasing_convex_in_strike_and_within_bounds(p: HestonParams, t: float, r: float, q: float) -> None:
    s = 100.0
    sd = math.sqrt(max(p.v0, p.theta) * t)
    strikes = s * np.exp(np.linspace(-3.0, 3.0, 41) * sd)
    call = heston.price("call", s, strikes, t, r, q, p.v0, p.kappa, p.theta, p.sigma, p.rho)
    put = heston.price("put", s, strikes, t, r, q, p.v0, p.kappa, p.theta, p.sigma, p.rho)
    df, fwd = math.exp(-r * t), s * math.exp((r - q) * t)
    tol = 1e-9
    assert np.all(np.diff(call) <= tol)
    # convexity on a non-uniform grid: divided differences increase
    slopes = np.diff(call) / np.diff(strikes)
    assert np.all(np.diff(slopes) >= -tol)
    assert np.all(call >= np.maximum(df * (fwd - strikes), 0.0) - tol)
    assert np.all(call <= df * fwd + tol)
    assert np.all(put >= np.maximum(df * (strikes - fwd), 0.0) - tol)
    assert np.all(put <= df * strikes + tol)


@settings(max_examples=40, deadline=None)
@given(
    v0=st.floats(0.01, 1.0), kappa=st.floats(0.1, 10.0), theta=st.floats(0.01, 1.0), rho=st.floats(-0.9, 0.9),
    t=t_st, m=st.floats(-2.0, 2.0), kind=st.sampled_from(["call", "put"]),
)  # fmt: skip
def test_black_scholes_limit(v0: float, kappa: float, theta: float, rho: float, t: float, m: float,
                             kind: str) -> None:  # fmt: skip
    """sigma -> 0: variance is deterministic, v_t = theta + (v0 - theta) e^{-kappa t}, price is BS."""
    s, r, q = 100.0, 0.03, 0.01
    vol = math.sqrt(HestonParams(v0, kappa, theta, 0.0, rho).expected_variance(t))
    k = s * math.exp(m * vol * math.sqrt(t))
    bs = float(black_scholes.price(kind, s, k, t, r, vol, q))
    exact = heston.price(kind, s, k, t, r, q, v0, kappa, theta, 0.0, rho)
    assert exact == pytest.approx(bs, abs=1e-10)
    # and continuously: the gap is O(sigma) (O(sigma^2) without correlation)
    gaps = [abs(heston.price(kind, s, k, t, r, q, v0, kappa, theta, eps, rho) - bs) for eps in (1e-3, 1e-5)]
    assert gaps[1] <= 1e-7 + 0.05 * gaps[0]
    assert gaps[1] < 1e-3


# ---------------------------------------------------------------------------------------------------------
# Gradient
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "t"),
    [
        (HestonParams(0.04, 4.0, 0.25, 1.0, -0.5), 1.0),
        (HestonParams(0.6, 5.0, 0.4, 2.0, -0.3), 3 / 365),
        (HestonParams(0.15, 6.0, 0.28, 2.5, 0.2), 30 / 365),
        (HestonParams(0.0175, 1.5768, 0.0398, 0.5751, -0.5711), 10.0),
        (HestonParams(0.3, 2.0, 0.3, 1e-4, 0.5), 0.5),
    ],
)
def test_gradient_matches_central_differences(params: HestonParams, t: float) -> None:
    fwd = 100.0
    sd = math.sqrt(max(params.v0, params.theta) * t)
    strikes = fwd * np.exp(np.linspace(-2.5, 2.5, 9) * sd)
    kinds = np.where(strikes < fwd, "put", "call")
    prices, grad = heston.price_and_gradient(kinds, fwd, strikes, t, params, 0.99)
    np.testing.assert_allclose(prices, heston.price_forward(kinds, fwd, strikes, t, params, 0.99), atol=1e-12)
    base = params.to_array()
    for j in range(5):
        h = 1e-5 * max(abs(base[j]), 1e-2)
        up, dn = base.copy(), base.copy()
        up[j] += h
        dn[j] -= h
        if j == 4:
            up[j], dn[j] = min(up[j], 1.0), max(dn[j], -1.0)
        fd = (
            heston.price_forward(kinds, fwd, strikes, t, HestonParams.from_array(up), 0.99)
            - heston.price_forward(kinds, fwd, strikes, t, HestonParams.from_array(dn), 0.99)
        ) / (up[j] - dn[j])
        np.testing.assert_allclose(grad[:, j], fd, rtol=2e-5, atol=2e-7, err_msg=heston.PARAM_NAMES[j])  # fmt: skip


# ---------------------------------------------------------------------------------------------------------
# API behaviour
# ---------------------------------------------------------------------------------------------------------


def test_broadcasting_and_grouping_match_one_by_one() -> None:
    strikes = np.array([[80.0], [100.0], [125.0]])
    ts = np.array([1 / 365, 7 / 365, 0.25, 1.0])
    kinds = np.array(["call", "put", "CALL", "p"])
    out = heston.price(kinds, 100.0, strikes, ts, 0.02, 0.0, 0.5, 3.0, 0.4, 1.5, -0.6)
    assert out.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            one = heston.price(kinds[j], 100.0, float(strikes[i, 0]), float(ts[j]), 0.02, 0.0, 0.5, 3.0, 0.4,
                               1.5, -0.6)  # fmt: skip
            assert out[i, j] == pytest.approx(one, abs=1e-12)


def test_parameter_arrays_broadcast() -> None:
    v0 = np.array([0.2, 0.5, 0.9])
    out = heston.price("call", 100.0, 100.0, 0.1, 0.0, 0.0, v0, 2.0, 0.4, 1.0, -0.5)
    assert out.shape == (3,)
    assert np.all(np.diff(out) > 0)  # more variance, more value


def test_zero_time_and_zero_variance_give_intrinsic() -> None:
    out = heston.price(["call", "put"], 100.0, 90.0, 0.0, 0.05, 0.0, 0.3, 2.0, 0.3, 1.0, -0.5)
    np.testing.assert_allclose(out, [10.0, 0.0])
    out = heston.price(["call", "put"], 100.0, 90.0, 1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0)
    np.testing.assert_allclose(out, [10.0, 0.0], atol=1e-14)


def test_price_forward_matches_spot_form() -> None:
    p = HestonParams(0.5, 3.0, 0.4, 2.0, -0.4)
    s, r, q, t = 100.0, 0.04, 0.01, 0.3
    fwd, df = s * math.exp((r - q) * t), math.exp(-r * t)
    a = heston.price("put", s, 95.0, t, r, q, p.v0, p.kappa, p.theta, p.sigma, p.rho)
    b = heston.price_forward("put", fwd, 95.0, t, p, df)
    assert a == pytest.approx(b, abs=1e-13)


def test_params_validation_and_feller() -> None:
    p = HestonParams(0.04, 2.0, 0.04, 0.3, -0.7)
    assert p.feller and p.feller_ratio == pytest.approx(2 * 2.0 * 0.04 / 0.09)
    assert not HestonParams(0.15, 5.97, 0.278, 2.48, -0.24).feller
    assert HestonParams.from_array(p.to_array()) == p
    with pytest.raises(AttributeError):
        p.v0 = 0.1  # type: ignore[misc]
    for bad in ((-0.1, 1, 0.1, 0.1, 0), (0.1, 0, 0.1, 0.1, 0), (0.1, 1, -0.1, 0.1, 0), (0.1, 1, 0.1, -0.1, 0),
                (0.1, 1, 0.1, 0.1, 1.5), (math.nan, 1, 0.1, 0.1, 0), (0.1, 1, 0.1, math.inf, 0)):  # fmt: skip
        with pytest.raises(HestonParameterError):
            HestonParams(*bad)


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="kind"):
        heston.price("straddle", 100, 100, 1, 0, 0, 0.04, 1, 0.04, 0.5, 0)
    with pytest.raises(ValueError):
        heston.price("call", -100, 100, 1, 0, 0, 0.04, 1, 0.04, 0.5, 0)
    with pytest.raises(ValueError):
        heston.price("call", 100, 100, -1, 0, 0, 0.04, 1, 0.04, 0.5, 0)
    with pytest.raises(HestonParameterError):
        heston.price("call", 100, 100, 1, 0, 0, 0.04, 1, 0.04, 0.5, -1.2)


def test_kind_accepts_strings_signs_and_booleans() -> None:
    args = (100.0, 105.0, 0.1, 0.01, 0.0, 0.5, 3.0, 0.4, 1.5, -0.5)
    by_name = heston.price(["call", "put", "C", "p"], *args)
    np.testing.assert_array_equal(heston.price([1, -1, 1, -1], *args), by_name)
    np.testing.assert_array_equal(heston.price([True, False, True, False], *args), by_name)
    with pytest.raises(ValueError):
        heston.price([2], *args)
