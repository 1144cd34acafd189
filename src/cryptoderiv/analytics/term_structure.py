"""ATM implied-volatility term structure: forward-ATM IV per expiry and constant-maturity tenors.

ATM means forward ATM (``K = F``, ``k = ln(K/F) = 0``) throughout. Constant-maturity values interpolate
total variance ``sigma_ATM**2 * t`` linearly in ``t`` (the interpolation that is calendar-consistent
and the one used for VIX-style indices).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from cryptoderiv.errors import CryptoderivError
from cryptoderiv.surface.chain import OptionChain
from cryptoderiv.surface.vol_surface import VolSurface

FloatArray = npt.NDArray[np.float64]
DEFAULT_TENORS_DAYS: tuple[float, ...] = (7.0, 30.0, 60.0, 90.0, 180.0)


class TermStructureError(CryptoderivError):
    """The term structure cannot be computed from the input."""


@dataclass(frozen=True, eq=False)
class AtmTermStructure:
    """Forward-ATM implied volatility per expiry.

    Parameters
    ----------
    times : numpy.ndarray
        Expiries, ACT/365 years, increasing.
    forwards : numpy.ndarray
        Forward per expiry.
    atm_vol : numpy.ndarray
        Forward-ATM implied volatility (decimal); NaN where the expiry has no quote on both sides of
        ``k = 0``.
    """

    times: FloatArray
    forwards: FloatArray
    atm_vol: FloatArray

    @property
    def total_variance(self) -> FloatArray:
        """``atm_vol**2 * times``."""
        return self.atm_vol**2 * self.times

    def constant_maturity(
        self, tenors_days: npt.ArrayLike = DEFAULT_TENORS_DAYS, *, extrapolate: Literal["flat", "nan"] = "flat"
    ) -> FloatArray:
        """ATM IV at constant maturities, see :func:`constant_maturity_vol`."""
        return constant_maturity_vol(self.times, self.atm_vol, tenors_days, extrapolate=extrapolate)


def atm_term_structure_from_quotes(chain: OptionChain, iv: npt.ArrayLike | None = None) -> AtmTermStructure:
    """Forward-ATM IV per expiry from quoted implied volatilities.

    Parameters
    ----------
    chain : OptionChain
        Quotes of one underlying.
    iv : array_like, optional
        Implied volatility per row (default the exchange mark IV). Only out-of-the-money rows with a
        finite positive IV are used.

    Returns
    -------
    AtmTermStructure
        ATM IV per expiry of the chain.

    Notes
    -----
    Per expiry, total variance ``w = iv**2 t`` is interpolated linearly in ``k = ln(K/F)`` between the
    last quote with ``k <= 0`` and the first with ``k > 0``: ``sigma_ATM = sqrt(w(0) / t)``.
    Vectorised over all expiries (one sort).
    """
    vol = chain.mark_iv if iv is None else np.asarray(iv, dtype=np.float64)
    use = chain.is_otm & np.isfinite(vol) & (vol > 0)
    e = chain.expiry_index[use]
    k = chain.log_moneyness[use]
    w = vol[use] ** 2 * chain.t[use]
    order = np.lexsort((k, e))
    e, k, w = e[order], k[order], w[order]
    n_exp = chain.expiries.size
    # first index of each expiry with k > 0, and the expiry's start / end
    start = np.searchsorted(e, np.arange(n_exp), side="left")
    end = np.searchsorted(e, np.arange(n_exp), side="right")
    key = e.astype(np.float64) * 1e3 + k  # |k| << 500, so the key sorts by (expiry, k)
    up = np.searchsorted(key, np.arange(n_exp) * 1e3, side="right")
    ok = (up > start) & (up < end)
    lo = np.clip(up - 1, 0, max(k.size - 1, 0))
    hi = np.clip(up, 0, max(k.size - 1, 0))
    atm = np.full(n_exp, np.nan)
    if k.size:
        k0, k1, w0, w1 = k[lo], k[hi], w[lo], w[hi]
        lam = np.where(k1 > k0, (0.0 - k0) / np.where(k1 > k0, k1 - k0, 1.0), 0.0)
        w_atm = w0 + lam * (w1 - w0)
        atm = np.where(ok, np.sqrt(np.maximum(w_atm, 0.0) / chain.expiries), np.nan)
    return AtmTermStructure(times=chain.expiries.copy(), forwards=chain.expiry_forwards(), atm_vol=atm)


def atm_term_structure(surface: VolSurface) -> AtmTermStructure:
    """Forward-ATM IV of each fitted slice of ``surface`` (``sqrt(w_i(0) / t_i)``)."""
    times = surface.times.copy()
    w0 = np.array([s.params.total_variance(0.0) for s in surface.slices], dtype=np.float64).ravel()
    fwd = np.array([s.forward for s in surface.slices])
    return AtmTermStructure(times=times, forwards=fwd, atm_vol=np.sqrt(np.maximum(w0, 0.0) / times))


def constant_maturity_vol(
    times: npt.ArrayLike,
    vols: npt.ArrayLike,
    tenors_days: npt.ArrayLike = DEFAULT_TENORS_DAYS,
    *,
    extrapolate: Literal["flat", "nan"] = "flat",
) -> FloatArray:
    """Implied volatility at constant maturities by linear interpolation of total variance in time.

    Parameters
    ----------
    times : array_like
        Expiries in years (any order; NaN vols are dropped).
    vols : array_like
        Implied volatility per expiry (decimal).
    tenors_days : array_like, default (7, 30, 60, 90, 180)
        Target maturities in calendar days (ACT/365).
    extrapolate : {"flat", "nan"}, default "flat"
        Outside the quoted expiries: hold the nearest expiry's volatility, or return NaN.

    Returns
    -------
    numpy.ndarray
        ``sigma(tau) = sqrt(w(tau) / tau)``, ``w`` linear in ``t`` between the bracketing expiries.

    Raises
    ------
    TermStructureError
        When no finite volatility is given.

    Notes
    -----
    ``w(tau) = w_1 + (w_2 - w_1) (tau - t_1) / (t_2 - t_1)`` with ``w_i = sigma_i**2 t_i``; with flat
    extrapolation ``w(tau) = sigma_1**2 tau`` before the first expiry and ``sigma_n**2 tau`` after the
    last.

    References
    ----------
    Cboe VIX White Paper (30-day interpolation of variance).
    """
    t = np.asarray(times, dtype=np.float64).ravel()
    v = np.asarray(vols, dtype=np.float64).ravel()
    good = np.isfinite(t) & np.isfinite(v) & (t > 0)
    if not np.any(good):
        raise TermStructureError("no finite implied volatility to interpolate")
    t, v = t[good], v[good]
    o = np.argsort(t)
    t, v = t[o], v[o]
    tau = np.asarray(tenors_days, dtype=np.float64) / 365.0
    w = np.interp(tau, t, v * v * t)
    w = np.where(tau < t[0], v[0] ** 2 * tau, np.where(tau > t[-1], v[-1] ** 2 * tau, w))
    out = np.sqrt(np.maximum(w, 0.0) / tau)
    if extrapolate == "nan":
        out = np.where((tau < t[0]) | (tau > t[-1]), np.nan, out)
    return out
