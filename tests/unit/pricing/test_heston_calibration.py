"""Heston calibration: recovery of known parameters from synthetic surfaces, warm start, result object."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cryptoderiv.pricing import heston
from cryptoderiv.pricing.heston import HestonParameterError, HestonParams
from cryptoderiv.pricing.heston_calibration import HestonBounds, HestonCalibrationResult, calibrate

TRUE_CASES = [
    HestonParams(0.35, 3.0, 0.45, 1.8, -0.4),  # crypto-like, Feller violated
    HestonParams(0.04, 1.5, 0.06, 0.5, -0.7),  # equity-like
    HestonParams(0.6, 6.0, 0.3, 2.5, 0.2),  # positive skew, high vol of variance
]


def _surface(true: HestonParams, forward: float = 100.0) -> tuple[np.ndarray, ...]:
    """10 expiries (2 days .. 1 year) x 20 strikes spanning +-2 standard deviations: 200 options."""
    days = np.array([2, 7, 14, 30, 60, 91, 120, 182, 273, 365])
    strikes, times = [], []
    for d in days:
        t = d / 365.0
        sd = math.sqrt(max(true.v0, true.theta) * t)
        strikes.append(forward * np.exp(np.linspace(-2.0, 2.0, 20) * sd))
        times.append(np.full(20, t))
    k = np.concatenate(strikes)
    t = np.concatenate(times)
    kind = np.where(k < forward, "put", "call")
    df = np.exp(-0.01 * t)
    return kind, k, t, df


@pytest.mark.parametrize("true", TRUE_CASES)
@pytest.mark.parametrize("objective", ["price_vega", "iv"])
def test_recovers_true_parameters_from_200_option_surface(true: HestonParams, objective: str) -> None:
    kind, k, t, df = _surface(true)
    forward = 100.0 * np.exp(0.02 * t)
    prices = heston.price_forward(kind, forward, k, t, true, df)
    start = HestonParams(0.2, 1.0, 0.2, 1.0, -0.1)
    res = calibrate(kind, k, t, forward, price=prices, discount_factor=df, objective=objective, initial=start)
    assert res.n_options == 200
    assert res.success, res.message
    rel = np.abs(res.params.to_array() / true.to_array() - 1.0)
    assert np.all(rel < 1e-3), (res.summary(), rel)
    assert res.rmse_iv < 1e-6
    assert res.wall_time < 5.0


def test_recovers_from_implied_vols_with_default_start() -> None:
    true = TRUE_CASES[0]
    kind, k, t, _ = _surface(true)
    prices = heston.price_forward(kind, 100.0, k, t, true)
    from cryptoderiv.pricing import implied_vol

    vols = implied_vol.implied_vol(kind, prices, 100.0, k, t)
    res = calibrate(kind, k, t, 100.0, iv=vols)
    assert res.success
    np.testing.assert_allclose(res.params.to_array(), true.to_array(), rtol=1e-3)
    np.testing.assert_allclose(res.market_price, prices, rtol=1e-8, atol=1e-10)


def test_price_objective_and_warm_start() -> None:
    true = TRUE_CASES[1]
    kind, k, t, _ = _surface(true)
    prices = heston.price_forward(kind, 100.0, k, t, true)
    first = calibrate(kind, k, t, 100.0, price=prices, objective="price")
    assert first.success
    np.testing.assert_allclose(first.params.to_array(), true.to_array(), rtol=1e-3)
    # the surface moves a little: the warm start needs only a few iterations
    moved = HestonParams(true.v0 * 1.05, true.kappa, true.theta, true.sigma, true.rho)
    prices2 = heston.price_forward(kind, 100.0, k, t, moved)
    second = calibrate(kind, k, t, 100.0, price=prices2, objective="price", initial=first)
    assert second.initial == first.params
    assert second.iterations <= first.iterations
    np.testing.assert_allclose(second.params.to_array(), moved.to_array(), rtol=1e-3)


def test_noisy_quotes_and_weights_and_nan_quotes() -> None:
    true = TRUE_CASES[0]
    kind, k, t, _ = _surface(true)
    prices = heston.price_forward(kind, 100.0, k, t, true)
    rng = np.random.default_rng(7)
    noisy = prices * (1.0 + 0.002 * rng.standard_normal(prices.shape))
    noisy[3] = np.nan  # a missing quote is ignored
    weights = np.ones_like(prices)
    weights[::2] = 2.0
    res = calibrate(kind, k, t, 100.0, price=noisy, weights=weights)
    assert res.n_options == 199
    assert np.isnan(res.model_price[3])
    assert res.rmse_iv < 0.01
    np.testing.assert_allclose(res.params.to_array()[[0, 2, 4]], true.to_array()[[0, 2, 4]], rtol=0.1, atol=0.02)


def test_bounds_are_respected() -> None:
    true = TRUE_CASES[2]
    kind, k, t, _ = _surface(true)
    prices = heston.price_forward(kind, 100.0, k, t, true)
    bounds = HestonBounds(lower=(1e-4, 1e-3, 1e-4, 1e-3, -0.999), upper=(9.0, 50.0, 9.0, 1.5, 0.999))
    res = calibrate(kind, k, t, 100.0, price=prices, bounds=bounds)
    assert res.params.sigma <= 1.5 + 1e-15
    assert res.rmse_iv > 1e-4  # cannot fit the true vol of variance 2.5


def test_result_summary_and_validation() -> None:
    true = TRUE_CASES[1]
    kind, k, t, _ = _surface(true)
    prices = heston.price_forward(kind, 100.0, k, t, true)
    res = calibrate(kind, k, t, 100.0, price=prices)
    assert isinstance(res, HestonCalibrationResult)
    text = res.summary()
    for token in ("v0=", "kappa=", "RMSE IV", "iterations", "ms", "converged"):
        assert token in text
    with pytest.raises(ValueError):
        calibrate(kind, k, t, 100.0)
    with pytest.raises(ValueError):
        calibrate(kind, k, t, 100.0, price=prices, objective="vega")  # type: ignore[arg-type]
    with pytest.raises(HestonParameterError):
        HestonBounds(lower=(1, 1, 1, 1, 0), upper=(0, 0, 0, 0, 0))


def test_calibrate_is_public_under_the_heston_module() -> None:
    from cryptoderiv.pricing import heston, heston_calibration

    assert heston.calibrate is heston_calibration.calibrate
    assert heston.HestonCalibrationResult is heston_calibration.HestonCalibrationResult
