"""Raw SVI: formulas, Gatheral's g against the Black density, validation, quasi-explicit fit recovery."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import ndtr

from cryptoderiv.surface.svi import SVIError, SVIParams, fit_svi

BTC_LIKE = SVIParams(a=0.01, b=0.1, rho=-0.3, m=0.05, sigma=0.1)
# Gatheral & Jacquier (2014), Example 3.1 (Axel Vogt): a valid-looking SVI slice with butterfly arbitrage.
VOGT = SVIParams(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153)


def test_total_variance_formula_by_hand() -> None:
    k = 0.25
    x = k - 0.05
    expected = 0.01 + 0.1 * (-0.3 * x + math.sqrt(x * x + 0.01))
    assert BTC_LIKE.total_variance(k) == pytest.approx(expected, rel=1e-15)
    assert BTC_LIKE.min_total_variance == pytest.approx(0.01 + 0.1 * 0.1 * math.sqrt(1 - 0.09), rel=1e-15)
    # the minimum sits at k* = m - rho sigma / sqrt(1 - rho^2) and no grid point goes below it
    k_star = 0.05 + 0.3 * 0.1 / math.sqrt(1 - 0.09)
    assert BTC_LIKE.total_variance(k_star) == pytest.approx(BTC_LIKE.min_total_variance, rel=1e-14)
    assert np.min(BTC_LIKE.total_variance(np.linspace(-2, 2, 4001))) >= BTC_LIKE.min_total_variance


def test_derivatives_match_finite_differences() -> None:
    k = np.linspace(-1, 1, 21)
    h = 1e-5
    w, w1, w2 = BTC_LIKE.derivatives(k)
    wp, wm = BTC_LIKE.total_variance(k + h), BTC_LIKE.total_variance(k - h)
    np.testing.assert_allclose(w1, (wp - wm) / (2 * h), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(w2, (wp - 2 * w + wm) / h**2, rtol=1e-4, atol=1e-6)


def _black_call(k: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Undiscounted Black call / F at log-moneyness k with total variance w (test helper)."""
    sw = np.sqrt(w)
    d1 = -k / sw + 0.5 * sw
    return ndtr(d1) - np.exp(k) * ndtr(d1 - sw)


@pytest.mark.parametrize("params", [BTC_LIKE, VOGT], ids=["btc_like", "vogt"])
def test_g_is_the_black_density_of_the_smile(params: SVIParams) -> None:
    # d2C/dK2 (F = 1) computed from prices must equal p(k) / K with p(k) = g / sqrt(2 pi w) exp(-d_-^2 / 2)
    k = np.linspace(-0.8, 1.2, 41)
    K = np.exp(k)
    h = 1e-4
    c = [_black_call(np.log(K + s * h), params.total_variance(np.log(K + s * h))) for s in (-1, 0, 1)]
    density_fd = (c[0] - 2 * c[1] + c[2]) / h**2
    w = params.total_variance(k)
    d_minus = -k / np.sqrt(w) - 0.5 * np.sqrt(w)
    density_g = params.butterfly_g(k) / np.sqrt(2 * np.pi * w) * np.exp(-0.5 * d_minus**2) / K
    np.testing.assert_allclose(density_fd, density_g, rtol=2e-4, atol=2e-5)


def test_vogt_example_has_butterfly_arbitrage_and_btc_like_does_not() -> None:
    k = np.linspace(-1.5, 1.5, 3001)
    assert np.min(VOGT.butterfly_g(k)) < -1e-3
    assert np.min(BTC_LIKE.butterfly_g(k)) > 0
    assert VOGT.min_total_variance > 0  # the arbitrage is not visible as negative variance


def test_flat_smile_has_g_equal_one() -> None:
    flat = SVIParams(a=0.04, b=0.0, rho=0.0, m=0.0, sigma=0.1)
    np.testing.assert_allclose(flat.butterfly_g(np.linspace(-1, 1, 11)), 1.0, rtol=1e-15)
    np.testing.assert_allclose(flat.implied_vol([0.0, 0.5], 0.25), 0.4, rtol=1e-15)


@pytest.mark.parametrize(
    "kwargs",
    [dict(a=0.01, b=-0.1, rho=0.0, m=0.0, sigma=0.1), dict(a=0.01, b=0.1, rho=1.0, m=0.0, sigma=0.1),
     dict(a=0.01, b=0.1, rho=0.0, m=0.0, sigma=0.0), dict(a=-0.5, b=0.1, rho=0.0, m=0.0, sigma=0.1),
     dict(a=0.01, b=3.0, rho=0.5, m=0.0, sigma=0.1), dict(a=float("nan"), b=0.1, rho=0.0, m=0.0, sigma=0.1)],
)
def test_invalid_parameters_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(SVIError):
        SVIParams(**kwargs)


def test_parameters_are_frozen() -> None:
    with pytest.raises(AttributeError):
        BTC_LIKE.a = 0.2  # type: ignore[misc]


def _assert_params_close(got: SVIParams, want: SVIParams, tol: float) -> None:
    for name in ("a", "b", "rho", "m", "sigma"):
        assert getattr(got, name) == pytest.approx(getattr(want, name), abs=tol), name


def test_fit_recovers_exact_parameters() -> None:
    k = np.linspace(-0.5, 0.5, 40)
    fit = fit_svi(k, BTC_LIKE.total_variance(k))
    _assert_params_close(fit.params, BTC_LIKE, 1e-3)
    assert fit.rmse_total_variance < 1e-5
    polished = fit_svi(k, BTC_LIKE.total_variance(k), polish=True)
    _assert_params_close(polished.params, BTC_LIKE, 1e-6)
    assert fit.n_points == 40 and fit.butterfly_free
    assert (fit.k_min, fit.k_max) == (-0.5, 0.5)


def test_fit_with_noise_stays_within_the_noise() -> None:
    rng = np.random.default_rng(7)
    k = np.linspace(-0.5, 0.5, 60)
    w_true = BTC_LIKE.total_variance(k)
    w_obs = w_true * (1 + 0.005 * rng.standard_normal(k.size))
    fit = fit_svi(k, w_obs)
    # the fitted smile is closer to the truth than the noisy data are
    err_fit = np.sqrt(np.mean((fit.params.total_variance(k) - w_true) ** 2))
    err_obs = np.sqrt(np.mean((w_obs - w_true) ** 2))
    assert err_fit < 0.5 * err_obs


def test_zero_weight_ignores_an_outlier() -> None:
    k = np.linspace(-0.4, 0.4, 30)
    w = BTC_LIKE.total_variance(k)
    w_bad = w.copy()
    w_bad[5] *= 3.0
    weights = np.ones_like(k)
    weights[5] = 0.0
    fit = fit_svi(k, w_bad, weights)
    assert fit.params.total_variance(k[5]) == pytest.approx(w[5], rel=1e-3)


def test_fit_rejects_bad_input() -> None:
    with pytest.raises(SVIError):
        fit_svi([0.0, 0.1, 0.2, 0.3], [0.01] * 4)
    with pytest.raises(SVIError):
        fit_svi(np.linspace(-1, 1, 6), [0.01, 0.01, -0.01, 0.01, 0.01, 0.01])
    with pytest.raises(SVIError):
        fit_svi(np.linspace(-1, 1, 6), np.full(6, 0.01), -np.ones(6))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=st.floats(0.0, 0.05), b=st.floats(0.01, 0.5), rho=st.floats(-0.8, 0.8), m=st.floats(-0.2, 0.2),
    sigma=st.floats(0.03, 0.5),
)
def test_fit_reproduces_any_valid_smile(a: float, b: float, rho: float, m: float, sigma: float) -> None:
    true = SVIParams(a=a, b=b, rho=rho, m=m, sigma=sigma)
    k = np.linspace(-0.6, 0.6, 41)
    w = true.total_variance(k)
    fit = fit_svi(k, w)
    # the smile (not necessarily each parameter: SVI is near-degenerate for large sigma) is reproduced
    np.testing.assert_allclose(fit.params.total_variance(k), w, rtol=2e-3, atol=1e-6)
