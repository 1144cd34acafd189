"""SSVI: no-arbitrage bounds, ATM behaviour, recovery of generated parameters, butterfly/calendar freedom."""

from __future__ import annotations

import numpy as np
import pytest

from cryptoderiv.surface.ssvi import SSVIError, SSVIParams, SSVISurface, atm_total_variance, fit_ssvi
from cryptoderiv.surface.svi import SVIParams

TRUE = SSVIParams(rho=-0.25, eta=1.2, gamma=0.4)
TIMES = np.array([7, 14, 30, 60, 90, 180]) / 365
THETAS = 0.5**2 * TIMES * np.linspace(1.1, 0.9, TIMES.size)  # ATM vol falling from 55 % to 45 %


def test_bounds_are_enforced() -> None:
    for kwargs in (dict(rho=1.0, eta=0.5, gamma=0.3), dict(rho=0.0, eta=2.5, gamma=0.3),
                   dict(rho=0.5, eta=1.5, gamma=0.3), dict(rho=0.0, eta=1.0, gamma=0.6),
                   dict(rho=0.0, eta=1.0, gamma=0.0)):
        with pytest.raises(SSVIError):
            SSVIParams(**kwargs)
    with pytest.raises(SSVIError):
        SSVISurface(TRUE, TIMES, THETAS[::-1])  # decreasing ATM total variance = calendar arbitrage


def test_atm_total_variance_is_theta_and_skew_is_analytic() -> None:
    th = np.array([0.01, 0.1, 0.5])
    np.testing.assert_allclose(TRUE.total_variance(0.0, th), th, rtol=1e-15)
    # dw/dk at k = 0 equals rho * theta * phi(theta)  (Gatheral & Jacquier 2014, eq. 4.1)
    h = 1e-6
    slope = (TRUE.total_variance(h, th) - TRUE.total_variance(-h, th)) / (2 * h)
    np.testing.assert_allclose(slope, TRUE.rho * th * TRUE.phi(th), rtol=1e-6)


def _svi_equivalent(theta: float) -> SVIParams:
    """SSVI slice = natural SVI (Delta = mu = 0, omega = theta, zeta = phi) in raw form (G&J 2014, sec. 3)."""
    phi = float(TRUE.phi(theta))
    r = TRUE.rho
    return SVIParams(a=0.5 * theta * (1 - r * r), b=0.5 * theta * phi, rho=r, m=-r / phi,
                     sigma=np.sqrt(1 - r * r) / phi)


def test_slices_are_raw_svi_and_free_of_butterfly_arbitrage() -> None:
    k = np.linspace(-2, 2, 801)
    for theta in THETAS:
        svi = _svi_equivalent(theta)
        np.testing.assert_allclose(svi.total_variance(k), TRUE.total_variance(k, theta), rtol=1e-12)
        assert np.min(svi.butterfly_g(k)) >= 0.0


def test_surface_is_free_of_calendar_arbitrage() -> None:
    s = SSVISurface(TRUE, TIMES, THETAS)
    k = np.linspace(-1.5, 1.5, 301)
    t = np.linspace(1 / 365, 0.6, 120)
    W = s.total_variance(t[:, None], k[None, :])
    assert np.all(np.diff(W, axis=0) >= -1e-15)


def test_fit_recovers_generated_parameters() -> None:
    k = np.tile(np.linspace(-0.4, 0.4, 17), TIMES.size)
    t = np.repeat(TIMES, 17)
    th = np.repeat(THETAS, 17)
    w = TRUE.total_variance(k, th)
    times, theta = atm_total_variance(t, k, w)
    np.testing.assert_allclose(times, TIMES)
    np.testing.assert_allclose(theta, THETAS, rtol=1e-12)
    fit = fit_ssvi(t, k, w)
    assert fit.params.rho == pytest.approx(TRUE.rho, abs=1e-4)
    assert fit.params.eta == pytest.approx(TRUE.eta, rel=1e-4)
    assert fit.params.gamma == pytest.approx(TRUE.gamma, abs=1e-4)
    assert fit.rmse_total_variance < 1e-8
    np.testing.assert_allclose(fit.implied_vol_k(t, k), np.sqrt(w / t), rtol=1e-5)
