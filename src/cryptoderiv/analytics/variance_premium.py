"""Variance risk premium: implied minus realised volatility (and variance).

Two alignments: *ex ante* (trailing) compares today's implied volatility with the realised volatility
of the past horizon (known today, a trading signal); *ex post* compares it with the realised volatility
over the horizon that the implied volatility actually covered (the premium earned by a variance
seller, known only ``horizon`` later).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cryptoderiv.analytics.realized_vol import close_to_close

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class VariancePremium:
    """Implied versus realised, aligned arrays.

    Parameters
    ----------
    implied : numpy.ndarray
        Implied volatility (decimal), e.g. a 30-day variance index.
    realized : numpy.ndarray
        Realised volatility (decimal) over the comparison window.
    """

    implied: FloatArray
    realized: FloatArray

    @property
    def vol_spread(self) -> FloatArray:
        """``implied - realized`` in volatility (decimal; x100 for vol points)."""
        return self.implied - self.realized

    @property
    def variance_spread(self) -> FloatArray:
        """``implied**2 - realized**2``: the payoff of a short variance swap struck at ``implied``
        per unit variance notional, annualised."""
        return self.implied**2 - self.realized**2

    @property
    def ratio(self) -> FloatArray:
        """``implied / realized``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.implied / self.realized


def forward_realized_vol(close: npt.ArrayLike, horizon: int, *, periods: float = 365.0) -> FloatArray:
    """Realised volatility over the *next* ``horizon`` bars, aligned with the start bar.

    Parameters
    ----------
    close : array_like
        Closing prices, one per bar.
    horizon : int
        Number of returns ahead (30 daily bars for a 30-day index).
    periods : float, default 365
        Bars per year.

    Returns
    -------
    numpy.ndarray
        Value at ``t`` = zero-mean close-to-close volatility of returns ``t+1 .. t+horizon``; NaN for
        the last ``horizon`` bars.

    Notes
    -----
    Zero-mean (``sqrt(periods * mean(r**2))``) matches the variance-swap payoff that a model-free
    implied variance prices.
    """
    trailing = close_to_close(close, horizon, periods=periods, demean=False)
    assert isinstance(trailing, np.ndarray)
    out = np.full(trailing.size, np.nan)
    out[: trailing.size - horizon] = trailing[horizon:]
    return out


def variance_premium(
    implied: npt.ArrayLike, close: npt.ArrayLike, horizon: int = 30, *, periods: float = 365.0,
    ex_post: bool = False,
) -> VariancePremium:
    """Implied-minus-realised on aligned series of implied vol and closes.

    Parameters
    ----------
    implied : array_like
        Implied volatility per bar (decimal), aligned with ``close``.
    close : array_like
        Closing prices per bar.
    horizon : int, default 30
        Realised window in bars (the implied tenor in bars: 30 daily bars for a 30-day index).
    periods : float, default 365
        Bars per year.
    ex_post : bool, default False
        ``False``: trailing realised vol of the last ``horizon`` returns (ex ante). ``True``: realised
        vol of the next ``horizon`` returns (ex post).

    Returns
    -------
    VariancePremium
        Aligned implied and realised arrays with spread properties.

    Notes
    -----
    ``VRP_vol = IV_t - RV``, ``VRP_var = IV_t**2 - RV**2`` with zero-mean close-to-close RV.

    References
    ----------
    T. Bollerslev, G. Tauchen and H. Zhou, "Expected stock returns and variance risk premia", Review of
    Financial Studies 22(11), 2009.
    """
    iv = np.asarray(implied, dtype=np.float64).ravel()
    if ex_post:
        rv = forward_realized_vol(close, horizon, periods=periods)
    else:
        trailing = close_to_close(close, horizon, periods=periods, demean=False)
        assert isinstance(trailing, np.ndarray)
        rv = trailing
    if rv.size != iv.size:
        raise ValueError(f"implied ({iv.size}) and close ({rv.size}) must be aligned")
    return VariancePremium(implied=iv, realized=rv)
