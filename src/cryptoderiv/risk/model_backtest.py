"""Backtest the VaR models on a return series: rolling one-day VaR forecasts, exceptions and the tests.

Position: one unit of the asset (P&L = simple return).  Each day's VaR uses only the ``window`` days before
it.  Models: ``hs`` (empirical quantile of the window), ``fhs`` (window of EWMA-standardised returns scaled by
the day's EWMA forecast), ``parametric`` (Gaussian with the window's mean and standard deviation).
(``mc_heston`` needs a calibrated surface per day and is not backtested on spot history.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from cryptoderiv.risk.var import RISKMETRICS_LAMBDA, ewma_volatility
from cryptoderiv.risk.var_backtest import backtest

__all__ = ["MODELS", "backtest_models", "rolling_var"]

MODELS = ("hs", "fhs", "parametric")


def rolling_var(log_returns: pd.Series, model: str, level: float, window: int = 500) -> pd.Series:
    """One-day VaR of one unit (a positive fraction of value) forecast for each day from the previous ``window``.

    Returns a series aligned with ``log_returns`` (NaN for the first ``window`` days).
    """
    r = log_returns.astype(float)
    simple = r.apply(np.expm1)
    q = 1.0 - level
    if model == "hs":
        return -simple.rolling(window).quantile(q).shift(1)
    if model == "parametric":
        mean, std = simple.rolling(window).mean().shift(1), simple.rolling(window).std().shift(1)
        return -(mean + float(stats.norm.ppf(q)) * std)
    if model == "fhs":
        sig = ewma_volatility(r.to_frame(), RISKMETRICS_LAMBDA).iloc[:, 0]  # sigma_t from returns up to t-1
        z = r / sig
        zq = z.rolling(window).quantile(q).shift(1)  # standardised quantile, window before t
        return -(zq * sig).apply(np.expm1)
    raise ValueError(f"unknown model {model!r}; one of {MODELS}")


def backtest_models(log_returns: pd.Series, levels: Sequence[float] = (0.95, 0.99), window: int = 500,
                    models: Sequence[str] = MODELS) -> pd.DataFrame:
    """Exceptions, Kupiec, Christoffersen and the Basel zone (last 250 days, 99 % only) per model and level.

    Parameters
    ----------
    log_returns : pandas.Series
        Daily log returns, date index ascending.
    levels : sequence of float
        VaR confidence levels.
    window : int, default 500
        Estimation window, days.

    Returns
    -------
    pandas.DataFrame
        Columns of the ``var_backtests`` table (``method``, ``horizon_days`` = 1, ``level``, ``observations``,
        ``exceptions``, ``kupiec_lr``, ``kupiec_p``, ``christoffersen_ind``, ``christoffersen_cc``,
        ``christoffersen_cc_p``, ``basel_zone``, ``basel_multiplier``, ``window_start``, ``as_of``).
    """
    r = log_returns.dropna()
    pnl = r.apply(np.expm1)
    rows = []
    for model in models:
        for level in levels:
            var = rolling_var(r, model, level, window)
            ok = var.notna()
            res = backtest(pnl[ok].to_numpy(), var[ok].to_numpy(), 1.0 - level)
            rows.append({"method": model, "horizon_days": 1, "level": float(level),
                         "observations": res.observations, "exceptions": res.exceptions,
                         "kupiec_lr": res.kupiec_lr, "kupiec_p": res.kupiec_p,
                         "christoffersen_ind": res.christoffersen_ind, "christoffersen_cc": res.christoffersen_cc,
                         "christoffersen_cc_p": res.christoffersen_cc_p, "basel_zone": res.basel_zone,
                         "basel_multiplier": res.basel_multiplier,
                         "window_start": r.index[ok.to_numpy()][0].date(), "as_of": r.index[-1].date()})
    return pd.DataFrame(rows)
