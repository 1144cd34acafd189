"""Realised volatility estimators from OHLC bars, rolling windows and volatility cones.

Crypto trades 24/7: annualisation uses 365 calendar days, and the number of bars per year follows from
the bar size (``365 * 86400 / bar_seconds``: 365 for daily bars, 2190 for 4-hour bars). Every
estimator returns an annualised volatility (decimal).

With ``window=None`` an estimator returns one number over the whole sample; with ``window=n`` it
returns an array aligned with the input whose value at ``i`` uses bars ``i - n + 1 .. i`` (NaN before
enough bars). Inputs are array-likes (NumPy or pandas), prices > 0.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

FloatArray = npt.NDArray[np.float64]
SECONDS_PER_YEAR = 365.0 * 86400.0


def periods_per_year(bar: str | float | timedelta | pd.Timedelta) -> float:
    """Number of bars in a 365-day year.

    Parameters
    ----------
    bar : str, float, datetime.timedelta or pandas.Timedelta
        Bar size: a pandas offset string (``"1D"``, ``"4h"``, ``"1min"``), a timedelta, or seconds.

    Returns
    -------
    float
        ``365 * 86400 / bar_seconds``.
    """
    if isinstance(bar, str):
        seconds = pd.Timedelta(bar).total_seconds()
    elif isinstance(bar, timedelta | pd.Timedelta):
        seconds = bar.total_seconds()
    else:
        seconds = float(bar)
    if not seconds > 0:
        raise ValueError(f"bar size must be > 0, got {bar!r}")
    return SECONDS_PER_YEAR / seconds


def _arr(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64).ravel()


def _rolling_mean(x: FloatArray, window: int | None) -> FloatArray | float:
    """Mean over the whole sample, or a trailing rolling mean aligned with ``x`` (NaN-padded)."""
    if window is None:
        return float(np.mean(x))
    if window < 1:
        raise ValueError("window must be >= 1")
    out = np.full(x.size, np.nan)
    if x.size >= window:
        out[window - 1:] = sliding_window_view(x, window).mean(axis=-1)
    return out


def _rolling_var(x: FloatArray, window: int | None, ddof: int) -> FloatArray | float:
    if window is None:
        return float(np.var(x, ddof=ddof))
    out = np.full(x.size, np.nan)
    if x.size >= window:
        out[window - 1:] = sliding_window_view(x, window).var(axis=-1, ddof=ddof)
    return out


def _annualise(var: FloatArray | float, ppy: float) -> FloatArray | float:
    if isinstance(var, float):
        return math.sqrt(max(var, 0.0) * ppy)
    return np.sqrt(np.maximum(var, 0.0) * ppy)


def log_returns(close: npt.ArrayLike) -> FloatArray:
    """``ln(C_t / C_{t-1})``, one shorter than ``close``."""
    c = _arr(close)
    return np.diff(np.log(c))


def close_to_close(
    close: npt.ArrayLike, window: int | None = None, *, periods: float = 365.0, demean: bool = True
) -> FloatArray | float:
    """Close-to-close realised volatility.

    Parameters
    ----------
    close : array_like
        Closing prices.
    window : int, optional
        Number of returns per estimate (rolling); ``None`` for the whole sample.
    periods : float, default 365
        Bars per year (see :func:`periods_per_year`).
    demean : bool, default True
        Sample variance (``ddof = 1``) about the window mean; ``False`` uses ``mean(r**2)`` (zero-mean,
        the convention of variance swaps and of DVOL-vs-realised comparisons).

    Returns
    -------
    float or numpy.ndarray
        Annualised volatility; rolling output is aligned with ``close`` (first value at index
        ``window``).

    Notes
    -----
    ``r_t = ln(C_t / C_{t-1})``; ``sigma = sqrt(periods * var(r))``.
    """
    r = log_returns(close)
    var = _rolling_var(r, window, ddof=1) if demean else _rolling_mean(r * r, window)
    out = _annualise(var, periods)
    if isinstance(out, float):
        return out
    return np.concatenate([[np.nan], out])


def parkinson(
    high: npt.ArrayLike, low: npt.ArrayLike, window: int | None = None, *, periods: float = 365.0
) -> FloatArray | float:
    """Parkinson (1980) high-low range estimator.

    Parameters
    ----------
    high, low : array_like
        Bar highs and lows.
    window : int, optional
        Bars per estimate (rolling) or ``None`` for the whole sample.
    periods : float, default 365
        Bars per year.

    Returns
    -------
    float or numpy.ndarray
        Annualised volatility (rolling output aligned with the input bars).

    Notes
    -----
    ``sigma**2 = periods / (4 ln 2) * mean(ln(H/L)**2)``; unbiased for driftless Brownian motion
    observed continuously, biased low with discrete sampling of the range.

    References
    ----------
    M. Parkinson, "The extreme value method for estimating the variance of the rate of return",
    Journal of Business 53(1), 1980.
    """
    hl = np.log(_arr(high) / _arr(low))
    return _annualise(_rolling_mean(hl * hl / (4.0 * math.log(2.0)), window), periods)


def garman_klass(
    open_: npt.ArrayLike, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike,
    window: int | None = None, *, periods: float = 365.0,
) -> FloatArray | float:
    """Garman-Klass (1980) OHLC estimator.

    Parameters
    ----------
    open_, high, low, close : array_like
        Bar prices.
    window : int, optional
        Bars per estimate or ``None``.
    periods : float, default 365
        Bars per year.

    Returns
    -------
    float or numpy.ndarray
        Annualised volatility.

    Notes
    -----
    ``sigma**2 = periods * mean(0.5 ln(H/L)**2 - (2 ln 2 - 1) ln(C/O)**2)``. Assumes no drift and no
    opening jump (a good fit to 24/7 crypto bars, where the open equals the previous close).

    References
    ----------
    M. Garman and M. Klass, "On the estimation of security price volatilities from historical data",
    Journal of Business 53(1), 1980.
    """
    hl = np.log(_arr(high) / _arr(low))
    co = np.log(_arr(close) / _arr(open_))
    per_bar = 0.5 * hl * hl - (2.0 * math.log(2.0) - 1.0) * co * co
    return _annualise(_rolling_mean(per_bar, window), periods)


def rogers_satchell(
    open_: npt.ArrayLike, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike,
    window: int | None = None, *, periods: float = 365.0,
) -> FloatArray | float:
    """Rogers-Satchell (1991) drift-independent OHLC estimator.

    Notes
    -----
    ``sigma**2 = periods * mean(ln(H/C) ln(H/O) + ln(L/C) ln(L/O))``.

    References
    ----------
    L. Rogers and S. Satchell, "Estimating variance from high, low and closing prices", Annals of
    Applied Probability 1(4), 1991.
    """
    o, h, lo, c = _arr(open_), _arr(high), _arr(low), _arr(close)
    per_bar = np.log(h / c) * np.log(h / o) + np.log(lo / c) * np.log(lo / o)
    return _annualise(_rolling_mean(per_bar, window), periods)


def yang_zhang(
    open_: npt.ArrayLike, high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike,
    window: int | None = None, *, periods: float = 365.0,
) -> FloatArray | float:
    """Yang-Zhang (2000) estimator: overnight + weighted open-to-close + Rogers-Satchell.

    Parameters
    ----------
    open_, high, low, close : array_like
        Bar prices (at least 3 bars; the first bar only supplies the previous close).
    window : int, optional
        Bars per estimate (>= 2) or ``None``.
    periods : float, default 365
        Bars per year.

    Returns
    -------
    float or numpy.ndarray
        Annualised volatility; rolling output aligned with the input (NaN for the first ``window``
        bars).

    Notes
    -----
    ``sigma**2 = sigma_o**2 + kappa sigma_c**2 + (1 - kappa) sigma_rs**2`` with
    ``sigma_o**2 = var(ln(O_t / C_{t-1}))``, ``sigma_c**2 = var(ln(C_t / O_t))`` (sample variances),
    ``sigma_rs**2`` the Rogers-Satchell mean, and ``kappa = 0.34 / (1.34 + (n + 1) / (n - 1))``.

    References
    ----------
    D. Yang and Q. Zhang, "Drift-independent volatility estimation based on high, low, open, and close
    prices", Journal of Business 73(3), 2000.
    """
    o, h, lo, c = _arr(open_), _arr(high), _arr(low), _arr(close)
    on = np.log(o[1:] / c[:-1])
    oc = np.log(c[1:] / o[1:])
    rs = np.log(h[1:] / c[1:]) * np.log(h[1:] / o[1:]) + np.log(lo[1:] / c[1:]) * np.log(lo[1:] / o[1:])
    n = on.size if window is None else window
    if n < 2:
        raise ValueError("Yang-Zhang needs at least 2 bars per estimate")
    kappa = 0.34 / (1.34 + (n + 1.0) / (n - 1.0))
    var_o = _rolling_var(on, window, ddof=1)
    var_c = _rolling_var(oc, window, ddof=1)
    var_rs = _rolling_mean(rs, window)
    var = var_o + kappa * var_c + (1.0 - kappa) * var_rs
    out = _annualise(var, periods)
    if isinstance(out, float):
        return out
    return np.concatenate([[np.nan], out])


def vol_cone(
    close: npt.ArrayLike,
    windows: tuple[int, ...] = (7, 14, 30, 60, 90, 180),
    quantiles: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0),
    *,
    periods: float = 365.0,
) -> pd.DataFrame:
    """Volatility cone: quantiles of rolling close-to-close volatility per window length.

    Parameters
    ----------
    close : array_like
        Closing prices.
    windows : tuple of int, default (7, 14, 30, 60, 90, 180)
        Window lengths in bars.
    quantiles : tuple of float
        Quantile levels in ``[0, 1]``.
    periods : float, default 365
        Bars per year.

    Returns
    -------
    pandas.DataFrame
        Index ``window``, one column per quantile plus ``latest`` (the current window's value) and
        ``count`` (number of overlapping windows).

    Notes
    -----
    Windows overlap (every trailing window of the history), as in Burghardt & Lane; overlapping
    estimates are correlated, so the outer quantiles of long windows rest on few independent samples.

    References
    ----------
    G. Burghardt and M. Lane, "How to tell if options are cheap", Journal of Portfolio Management
    16(2), 1990.
    """
    rows = []
    for n in windows:  # a handful of window lengths; each is vectorised
        series = close_to_close(close, n, periods=periods)
        assert isinstance(series, np.ndarray)
        vals = series[np.isfinite(series)]
        row: dict[str, float] = {f"q{q:g}": float(np.quantile(vals, q)) if vals.size else np.nan
                                 for q in quantiles}
        row["latest"] = float(vals[-1]) if vals.size else np.nan
        row["count"] = float(vals.size)
        rows.append(row)
    return pd.DataFrame(rows, index=pd.Index(list(windows), name="window"))
