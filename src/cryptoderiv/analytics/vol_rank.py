"""Implied-volatility rank and percentile over a trailing window.

Both compare today's implied volatility (or any series, e.g. DVOL) with its own trailing history and
are reported as fractions in ``[0, 1]`` (multiply by 100 for the usual "IVR 35" quote).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

FloatArray = npt.NDArray[np.float64]


def _windows(x: FloatArray, window: int) -> FloatArray:
    if window < 2:
        raise ValueError("window must be >= 2")
    return sliding_window_view(x, window)


def iv_rank(series: npt.ArrayLike, window: int = 365) -> FloatArray:
    """IV rank: where today's value sits between the trailing minimum and maximum.

    Parameters
    ----------
    series : array_like
        Implied-volatility observations in time order (one per period; NaN allowed).
    window : int, default 365
        Trailing window length in observations, today included (365 daily points = one year).

    Returns
    -------
    numpy.ndarray
        ``(x_t - min) / (max - min)`` over ``x_{t-window+1} .. x_t`` (NaNs ignored), aligned with the
        input; NaN for the first ``window - 1`` points, when ``x_t`` is NaN or when ``max == min``.

    Notes
    -----
    The rank is driven by the two extremes of the window, so one spike dominates it for a year; the
    percentile (:func:`iv_percentile`) is the robust companion.
    """
    x = np.asarray(series, dtype=np.float64).ravel()
    out = np.full(x.size, np.nan)
    if x.size < window:
        return out
    win = _windows(x, window)
    lo = np.nanmin(np.where(np.isnan(win), np.inf, win), axis=-1)
    hi = np.nanmax(np.where(np.isnan(win), -np.inf, win), axis=-1)
    cur = x[window - 1:]
    rng = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        val = np.where(np.isfinite(cur) & (rng > 0), (cur - lo) / rng, np.nan)
    out[window - 1:] = val
    return out


def iv_percentile(series: npt.ArrayLike, window: int = 365) -> FloatArray:
    """IV percentile: share of the trailing window's earlier observations below today's value.

    Parameters
    ----------
    series : array_like
        Implied-volatility observations in time order (NaN allowed).
    window : int, default 365
        Window length in observations, today included; the comparison set is the ``window - 1``
        observations before today.

    Returns
    -------
    numpy.ndarray
        ``#{s in [t-window+1, t-1] : x_s < x_t} / #{finite x_s}``, aligned with the input; NaN for the
        first ``window - 1`` points or when ``x_t`` is NaN.
    """
    x = np.asarray(series, dtype=np.float64).ravel()
    out = np.full(x.size, np.nan)
    if x.size < window:
        return out
    win = _windows(x, window)
    past = win[:, :-1]
    cur = win[:, -1:]
    finite = np.isfinite(past)
    below = np.sum(finite & (past < cur), axis=-1)
    n = np.sum(finite, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        val = np.where(np.isfinite(cur[:, 0]) & (n > 0), below / n, np.nan)
    out[window - 1:] = val
    return out
