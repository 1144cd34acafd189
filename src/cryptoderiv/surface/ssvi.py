"""Surface SVI (SSVI) of Gatheral & Jacquier (2014) with the power-law curvature function.

``w(k, t) = theta_t / 2 * (1 + rho phi(theta_t) k + sqrt((phi(theta_t) k + rho)**2 + 1 - rho**2))``,
``phi(theta) = eta / (theta**gamma (1 + theta)**(1 - gamma))``.

``theta_t`` is the ATM total variance curve: the per-expiry ATM total variances made non-decreasing and
interpolated linearly in ``t``. With ``0 < gamma <= 1/2`` and ``eta (1 + |rho|) <= 2`` the surface is
free of static arbitrage (no butterfly, no calendar spread), which the fit enforces by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import least_squares

from cryptoderiv.errors import CryptoderivError

FloatArray = npt.NDArray[np.float64]


class SSVIError(CryptoderivError):
    """Invalid SSVI parameters or an impossible fit."""


@dataclass(frozen=True, slots=True)
class SSVIParams:
    """Power-law SSVI parameters.

    Parameters
    ----------
    rho : float
        Correlation-like skew, ``|rho| < 1``.
    eta : float
        Curvature level, ``eta > 0`` and ``eta (1 + |rho|) <= 2``.
    gamma : float
        Curvature decay in ``theta``, ``0 < gamma <= 1/2``.

    Notes
    -----
    The bounds are the sufficient no-static-arbitrage conditions of Gatheral & Jacquier (2014), §4.

    References
    ----------
    J. Gatheral and A. Jacquier, "Arbitrage-free SVI volatility surfaces", Quant. Finance 14(1), 2014.
    """

    rho: float
    eta: float
    gamma: float

    def __post_init__(self) -> None:
        for name in ("rho", "eta", "gamma"):
            if not math.isfinite(getattr(self, name)):
                raise SSVIError(f"SSVI {name} must be finite")
        if not -1.0 < self.rho < 1.0:
            raise SSVIError(f"SSVI rho must lie in (-1, 1), got {self.rho}")
        if not 0.0 < self.gamma <= 0.5:
            raise SSVIError(f"SSVI gamma must lie in (0, 1/2], got {self.gamma}")
        if not self.eta > 0.0 or self.eta * (1.0 + abs(self.rho)) > 2.0 + 1e-12:
            raise SSVIError(f"SSVI needs 0 < eta(1+|rho|) <= 2, got eta={self.eta}, rho={self.rho}")

    def phi(self, theta: npt.ArrayLike) -> FloatArray:
        """Power-law curvature ``eta / (theta**gamma (1 + theta)**(1 - gamma))``."""
        th = np.asarray(theta, dtype=np.float64)
        return self.eta / (th**self.gamma * (1.0 + th) ** (1.0 - self.gamma))

    def total_variance(self, k: npt.ArrayLike, theta: npt.ArrayLike) -> FloatArray:
        """SSVI total variance ``w(k, theta)`` (broadcast)."""
        kk = np.asarray(k, dtype=np.float64)
        th = np.asarray(theta, dtype=np.float64)
        p = self.phi(th)
        r = self.rho
        return 0.5 * th * (1.0 + r * p * kk + np.sqrt((p * kk + r) ** 2 + 1.0 - r * r))


@dataclass(frozen=True, eq=False)
class SSVISurface:
    """An SSVI surface: parameters plus the ATM total-variance curve ``theta_t``.

    Parameters
    ----------
    params : SSVIParams
        Shape parameters.
    times : numpy.ndarray
        Expiries (years, increasing).
    thetas : numpy.ndarray
        ATM total variance at ``times`` (non-decreasing, > 0).
    rmse_total_variance : float
        Weighted RMSE of the fit in total variance (NaN when not fitted).
    """

    params: SSVIParams
    times: FloatArray
    thetas: FloatArray
    rmse_total_variance: float = float("nan")

    def __post_init__(self) -> None:
        t = np.asarray(self.times, dtype=np.float64)
        th = np.asarray(self.thetas, dtype=np.float64)
        if t.ndim != 1 or t.shape != th.shape or t.size == 0:
            raise SSVIError("times and thetas must be 1-D of equal, non-zero length")
        if np.any(np.diff(t) <= 0) or np.any(t <= 0):
            raise SSVIError("times must be > 0 and increasing")
        if np.any(th <= 0) or np.any(np.diff(th) < 0):
            raise SSVIError("thetas must be > 0 and non-decreasing (no calendar arbitrage at the money)")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "thetas", th)

    def theta(self, t: npt.ArrayLike) -> FloatArray:
        """ATM total variance at ``t``: linear between expiries, flat ATM vol outside."""
        tt = np.asarray(t, dtype=np.float64)
        inner = np.interp(tt, self.times, self.thetas)
        before = self.thetas[0] * tt / self.times[0]
        after = self.thetas[-1] * tt / self.times[-1]
        return np.where(tt < self.times[0], before, np.where(tt > self.times[-1], after, inner))

    def total_variance(self, t: npt.ArrayLike, k: npt.ArrayLike) -> FloatArray:
        """``w(k, t)`` on log forward moneyness ``k``."""
        return self.params.total_variance(k, self.theta(t))

    def implied_vol_k(self, t: npt.ArrayLike, k: npt.ArrayLike) -> FloatArray:
        """Implied volatility at ``(t, k)``."""
        tt = np.asarray(t, dtype=np.float64)
        return np.sqrt(self.total_variance(tt, k) / tt)


def atm_total_variance(t: npt.ArrayLike, k: npt.ArrayLike, w: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """ATM total variance per expiry by linear interpolation of ``w`` in ``k`` at ``k = 0``.

    Parameters
    ----------
    t, k, w : array_like
        Maturity, log forward moneyness and total variance of each quote.

    Returns
    -------
    tuple of numpy.ndarray
        ``(times, theta)``: unique maturities and ATM total variance (nearest-quote value where ``k = 0``
        is outside the quoted range), made non-decreasing by a running maximum.
    """
    tt = np.asarray(t, dtype=np.float64)
    kk = np.asarray(k, dtype=np.float64)
    ww = np.asarray(w, dtype=np.float64)
    times = np.unique(tt)
    theta = np.empty(times.size)
    for i, ti in enumerate(times):  # one interpolation per expiry
        sel = tt == ti
        o = np.argsort(kk[sel])
        theta[i] = np.interp(0.0, kk[sel][o], ww[sel][o])
    return times, np.maximum.accumulate(theta)


def fit_ssvi(
    t: npt.ArrayLike, k: npt.ArrayLike, w: npt.ArrayLike, weights: npt.ArrayLike | None = None
) -> SSVISurface:
    """Fit power-law SSVI to quotes of several expiries.

    Parameters
    ----------
    t, k, w : array_like
        Maturity (years), log forward moneyness and total implied variance of each quote.
    weights : array_like, optional
        Weights of squared total-variance errors (default equal).

    Returns
    -------
    SSVISurface
        Fitted parameters, ``theta_t`` from :func:`atm_total_variance`, and the weighted RMSE.

    Notes
    -----
    ``theta_t`` is fixed from the data (the SSVI ATM total variance equals ``theta_t`` exactly), then
    ``(rho, eta, gamma)`` minimise ``sum omega_i (w_ssvi(k_i, theta_{t_i}) - w_i)**2`` with
    ``rho = 0.999 tanh(x_0)``, ``eta = 2 s(x_1) / (1 + |rho|)``, ``gamma = s(x_2) / 2`` (``s`` the
    logistic function), so every iterate satisfies the no-arbitrage bounds.

    References
    ----------
    J. Gatheral and A. Jacquier, "Arbitrage-free SVI volatility surfaces", Quant. Finance 14(1), 2014.
    """
    tt = np.asarray(t, dtype=np.float64).ravel()
    kk = np.asarray(k, dtype=np.float64).ravel()
    ww = np.asarray(w, dtype=np.float64).ravel()
    om = np.ones_like(ww) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    ok = np.isfinite(tt) & np.isfinite(kk) & np.isfinite(ww) & np.isfinite(om) & (ww > 0) & (tt > 0)
    tt, kk, ww, om = tt[ok], kk[ok], ww[ok], om[ok]
    if tt.size < 5:
        raise SSVIError("SSVI fit needs at least 5 quotes")
    times, theta = atm_total_variance(tt, kk, ww)
    th_q = theta[np.searchsorted(times, tt)]
    sq = np.sqrt(om / om.sum())

    def unpack(x: FloatArray) -> SSVIParams:
        rho = 0.999 * math.tanh(x[0])
        eta = 2.0 / (1.0 + math.exp(-x[1])) / (1.0 + abs(rho))
        gamma = 0.5 / (1.0 + math.exp(-x[2]))
        return SSVIParams(rho=rho, eta=max(eta, 1e-12), gamma=max(gamma, 1e-12))

    def resid(x: FloatArray) -> FloatArray:
        return sq * (unpack(x).total_variance(kk, th_q) - ww)

    best = None
    for x0 in (np.array([-0.2, 0.0, 0.0]), np.array([0.2, -1.0, 1.0])):
        res = least_squares(resid, x0, method="lm", max_nfev=400)
        if best is None or res.cost < best.cost:
            best = res
    assert best is not None
    params = unpack(best.x)
    rmse = float(np.sqrt(2.0 * best.cost))
    return SSVISurface(params=params, times=times, thetas=theta, rmse_total_variance=rmse)
