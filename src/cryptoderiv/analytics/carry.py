"""Carry: perpetual funding annualised, futures basis annualised, constant-maturity basis.

Conventions: rates are decimals (0.0001 = 1 bp = 0.01 %); a 365-day year; "APR" is simple
annualisation (rate x periods per year), "APY" compounds. Funding is paid by longs to shorts when
positive. Note the units of the sources: Binance's API returns funding as a decimal per interval, some
dumps (e.g. ``funding_rate_btc.json``) store it in percent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
HOURS_PER_YEAR = 365.0 * 24.0


def funding_periods_per_year(interval_hours: npt.ArrayLike = 8.0) -> Any:
    """Funding payments per 365-day year: ``8760 / interval_hours`` (1095 for 8-hourly).

    ``interval_hours`` may be an array (one interval per row: venues change theirs); NaN stays NaN.
    A float in, a float out.
    """
    hours = np.asarray(interval_hours, dtype=np.float64)
    if np.any(hours <= 0):
        raise ValueError(f"interval_hours must be > 0, got {interval_hours!r}")
    periods = HOURS_PER_YEAR / hours
    return float(periods) if periods.ndim == 0 else periods


def funding_apr(rate: npt.ArrayLike, interval_hours: npt.ArrayLike = 8.0) -> FloatArray:
    """Simple annualised funding rate.

    Parameters
    ----------
    rate : array_like
        Funding rate per interval, decimal.
    interval_hours : float or array_like, default 8
        Funding interval (8 h on Binance/Bybit/Deribit-style perps, 1 h on dYdX); broadcasts with ``rate``.

    Returns
    -------
    numpy.ndarray
        ``rate * 8760 / interval_hours`` (decimal per year): 0.0001 per 8 h -> 0.1095 (10.95 %).
    """
    return np.asarray(rate, dtype=np.float64) * funding_periods_per_year(interval_hours)


def funding_apy(rate: npt.ArrayLike, interval_hours: float = 8.0) -> FloatArray:
    """Compounded annual funding yield ``(1 + rate)**(8760 / interval_hours) - 1``."""
    r = np.asarray(rate, dtype=np.float64)
    return np.expm1(funding_periods_per_year(interval_hours) * np.log1p(r))


def realized_funding_apr(rates: npt.ArrayLike, interval_hours: float = 8.0) -> float:
    """Mean funding over a history of payments, annualised: ``mean(rate) * 8760 / interval_hours``.

    NaNs (missed payments) are ignored.
    """
    r = np.asarray(rates, dtype=np.float64)
    return float(np.nanmean(r)) * funding_periods_per_year(interval_hours)


@dataclass(frozen=True, eq=False)
class Basis:
    """Futures basis against spot, aligned arrays.

    Parameters
    ----------
    futures, spot : numpy.ndarray
        Prices.
    t : numpy.ndarray
        Time to expiry, years (ACT/365).
    """

    futures: FloatArray
    spot: FloatArray
    t: FloatArray

    @property
    def absolute(self) -> FloatArray:
        """``F - S`` (price units)."""
        return self.futures - self.spot

    @property
    def relative(self) -> FloatArray:
        """``F / S - 1`` (not annualised)."""
        return self.futures / self.spot - 1.0

    @property
    def apr(self) -> FloatArray:
        """Simple annualised basis ``(F / S - 1) / t``: the cash-and-carry return per year."""
        return self.relative / self.t

    @property
    def log_rate(self) -> FloatArray:
        """Continuously compounded implied carry ``ln(F / S) / t``."""
        return np.log(self.futures / self.spot) / self.t


def futures_basis(futures: npt.ArrayLike, spot: npt.ArrayLike, t: npt.ArrayLike) -> Basis:
    """Basis of dated futures against spot (or index).

    Parameters
    ----------
    futures, spot : array_like
        Futures and spot prices (broadcast).
    t : array_like
        Time to expiry, years (> 0).

    Returns
    -------
    Basis
        With ``absolute``, ``relative``, ``apr`` and ``log_rate`` properties.

    Notes
    -----
    ``APR = (F/S - 1) * 365 / days``; ``r = ln(F/S) / t``. With 30 days and F/S = 1.01, APR = 12.17 %.
    """
    f, s, tt = np.broadcast_arrays(np.asarray(futures, dtype=np.float64), np.asarray(spot, dtype=np.float64),
                                   np.asarray(t, dtype=np.float64))
    if np.any(~(tt > 0)):
        raise ValueError("time to expiry must be > 0")
    return Basis(futures=f.copy(), spot=s.copy(), t=tt.copy())


def constant_maturity_basis(
    t: npt.ArrayLike,
    futures: npt.ArrayLike,
    spot: float,
    tenors_days: npt.ArrayLike = (30.0, 90.0, 180.0),
    *,
    quote: Literal["apr", "log_rate"] = "apr",
) -> FloatArray:
    """Annualised basis at constant maturities from a futures curve.

    Parameters
    ----------
    t : array_like
        Expiries of the futures, years.
    futures : array_like
        Futures prices.
    spot : float
        Spot (index) price.
    tenors_days : array_like, default (30, 90, 180)
        Target maturities in days.
    quote : {"apr", "log_rate"}, default "apr"
        Output as simple APR ``(F_tau/S - 1)/tau`` or continuous rate ``ln(F_tau/S)/tau``.

    Returns
    -------
    numpy.ndarray
        Annualised basis per tenor.

    Notes
    -----
    The log basis ``ln(F/S)`` (total carry) is interpolated linearly in ``t`` between the bracketing
    expiries, through ``(0, 0)`` before the first; beyond the last expiry the last continuous rate is
    held. Linear total carry means a constant forward carry rate between expiries, the analogue of
    linear total variance.
    """
    tt = np.asarray(t, dtype=np.float64).ravel()
    ff = np.asarray(futures, dtype=np.float64).ravel()
    good = np.isfinite(tt) & np.isfinite(ff) & (tt > 0) & (ff > 0)
    if not np.any(good) or not spot > 0:
        raise ValueError("need at least one futures price with t > 0 and a positive spot")
    tt, ff = tt[good], ff[good]
    o = np.argsort(tt)
    tt, lb = tt[o], np.log(ff[o] / spot)
    tau = np.asarray(tenors_days, dtype=np.float64) / 365.0
    total = np.interp(tau, np.concatenate([[0.0], tt]), np.concatenate([[0.0], lb]))
    total = np.where(tau > tt[-1], lb[-1] / tt[-1] * tau, total)
    if quote == "log_rate":
        return total / tau
    return np.expm1(total) / tau
