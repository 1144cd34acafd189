r"""VaR backtesting: Kupiec's proportion of failures, Christoffersen's independence and conditional-coverage
tests, and the Basel traffic-light zone.

``coverage`` is always the VaR level's tail probability (0.01 for a 99 % VaR); a *hit* (exception) is a day
whose loss exceeded the VaR forecast made the day before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["BASEL_MULTIPLIERS", "BacktestResult", "backtest", "basel_zone", "christoffersen", "kupiec"]

#: BCBS (1996), "Supervisory framework for the use of backtesting ...", Table 2: plus factor by number of
#: exceptions in 250 observations of a 99 % VaR; multiplier = 3 + plus factor.
BASEL_MULTIPLIERS = {0: 3.00, 1: 3.00, 2: 3.00, 3: 3.00, 4: 3.00, 5: 3.40, 6: 3.50, 7: 3.65, 8: 3.75, 9: 3.85}


def _xlogy(x: float, y: float) -> float:
    """x ln y with 0 ln 0 = 0."""
    return 0.0 if x == 0 else x * math.log(y)


def _check_coverage(coverage: float) -> float:
    c = float(coverage)
    if not 0.0 < c < 1.0:
        raise ValueError(f"coverage must be a tail probability in (0, 1), got {coverage!r}")
    return c


def kupiec(exceptions: int, observations: int, coverage: float) -> tuple[float, float]:
    r"""Kupiec's proportion-of-failures likelihood-ratio test.

    Parameters
    ----------
    exceptions : int
        Number of VaR exceptions ``x``.
    observations : int
        Number of days ``T`` (``0 <= x <= T``, ``T > 0``).
    coverage : float
        Tail probability ``p`` of the VaR (0.01 for 99 %).

    Returns
    -------
    (float, float)
        ``LR_uc`` and its p-value under :math:`\chi^2(1)`.

    Raises
    ------
    ValueError
        Counts out of range or coverage not in (0, 1).

    Notes
    -----
    .. math:: LR_{uc} = -2\ln\big[(1-p)^{T-x}p^x\big] + 2\ln\big[(1-\hat\pi)^{T-x}\hat\pi^x\big],
              \quad \hat\pi = x/T.

    References
    ----------
    P. Kupiec, "Techniques for verifying the accuracy of risk measurement models", J. Derivatives 3 (1995) 73-84.
    """
    p = _check_coverage(coverage)
    x, t = int(exceptions), int(observations)
    if t <= 0 or not 0 <= x <= t:
        raise ValueError(f"need 0 <= exceptions <= observations and observations > 0, got {x}, {t}")
    pi = x / t
    lr = -2.0 * (_xlogy(t - x, 1 - p) + _xlogy(x, p)) + 2.0 * (_xlogy(t - x, 1 - pi) + _xlogy(x, pi))
    lr = max(lr, 0.0)
    return lr, float(stats.chi2.sf(lr, 1))


def christoffersen(hits: Any, coverage: float) -> tuple[float, float]:
    r"""Christoffersen's independence and conditional-coverage likelihood-ratio statistics.

    Parameters
    ----------
    hits : sequence of bool
        Exception indicator per day, in time order (at least 2 days).
    coverage : float
        Tail probability ``p`` of the VaR.

    Returns
    -------
    (float, float)
        ``LR_ind`` (:math:`\chi^2(1)` under independence) and ``LR_cc = LR_uc + LR_ind``
        (:math:`\chi^2(2)`), with ``LR_uc`` Kupiec's statistic on all ``T`` days.

    Notes
    -----
    With :math:`n_{ij}` the number of days in state ``j`` following a day in state ``i``,
    :math:`\pi_{01} = n_{01}/(n_{00}+n_{01})`, :math:`\pi_{11} = n_{11}/(n_{10}+n_{11})`,
    :math:`\pi = (n_{01}+n_{11})/(n_{00}+n_{01}+n_{10}+n_{11})`:

    .. math:: LR_{ind} = -2\ln\big[(1-\pi)^{n_{00}+n_{10}}\pi^{n_{01}+n_{11}}\big]
              + 2\ln\big[(1-\pi_{01})^{n_{00}}\pi_{01}^{n_{01}}(1-\pi_{11})^{n_{10}}\pi_{11}^{n_{11}}\big].

    References
    ----------
    P. Christoffersen, "Evaluating interval forecasts", International Economic Review 39 (1998) 841-862.
    """
    h = np.asarray(hits)
    if h.ndim != 1 or h.size < 2:
        raise ValueError("hits must be a 1-d sequence of at least 2 booleans")
    if h.dtype != bool:
        if not np.isin(h, (0, 1)).all():
            raise ValueError("hits must be booleans (or 0/1)")
        h = h.astype(bool)
    prev, cur = h[:-1], h[1:]
    n00 = int(np.sum(~prev & ~cur))
    n01 = int(np.sum(~prev & cur))
    n10 = int(np.sum(prev & ~cur))
    n11 = int(np.sum(prev & cur))
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    restricted = _xlogy(n00 + n10, 1 - pi) + _xlogy(n01 + n11, pi)
    unrestricted = _xlogy(n00, 1 - pi01) + _xlogy(n01, pi01) + _xlogy(n10, 1 - pi11) + _xlogy(n11, pi11)
    lr_ind = max(-2.0 * restricted + 2.0 * unrestricted, 0.0)
    lr_uc, _ = kupiec(int(h.sum()), int(h.size), coverage)
    return lr_ind, lr_uc + lr_ind


def basel_zone(exceptions: int, observations: int = 250) -> tuple[str, float]:
    """Basel traffic-light zone and capital multiplier of a 99 % VaR backtest.

    Parameters
    ----------
    exceptions : int
        Exceptions of the 99 % VaR.
    observations : int, default 250
        Days in the backtest window.

    Returns
    -------
    (str, float)
        ``"green"``/``"yellow"``/``"red"`` and the multiplier (3.00 ... 4.00).

    Notes
    -----
    For 250 observations: green 0-4 exceptions (3.00), yellow 5-9 (3.40, 3.50, 3.65, 3.75, 3.85), red 10 or
    more (4.00), BCBS (1996) Table 2.  For other window lengths the zones follow the same rule the table is
    built on - cumulative binomial probability (p = 0.01) of at most ``x`` exceptions below 95 % green, at
    least 99.99 % red - and the yellow multiplier is read at the exception count rescaled to 250 days.

    References
    ----------
    Basel Committee on Banking Supervision, "Supervisory framework for the use of 'backtesting' in conjunction
    with the internal models approach to market risk capital requirements", January 1996, Table 2.
    """
    x, t = int(exceptions), int(observations)
    if t <= 0 or not 0 <= x <= t:
        raise ValueError(f"need 0 <= exceptions <= observations and observations > 0, got {x}, {t}")
    if t == 250:
        if x >= 10:
            return "red", 4.0
        return ("green" if x <= 4 else "yellow"), BASEL_MULTIPLIERS[x]
    cdf = float(stats.binom.cdf(x, t, 0.01))
    if cdf < 0.95:
        return "green", 3.0
    if cdf >= 0.9999:
        return "red", 4.0
    scaled = min(max(round(x * 250 / t), 5), 9)
    return "yellow", BASEL_MULTIPLIERS[scaled]


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Outcome of one VaR backtest (see :func:`backtest`)."""

    observations: int
    exceptions: int
    kupiec_lr: float
    kupiec_p: float
    christoffersen_ind: float
    christoffersen_cc: float
    christoffersen_cc_p: float
    basel_zone: str | None
    basel_multiplier: float | None


def backtest(pnl: Any, var: Any, coverage: float) -> BacktestResult:
    """Backtest VaR forecasts against realised P&L.

    Parameters
    ----------
    pnl : array_like
        Realised P&L (or returns) per day.
    var : array_like
        VaR forecast for the same day (a positive loss), made with information up to the day before.
    coverage : float
        Tail probability (0.01 for 99 %).

    Returns
    -------
    BacktestResult
        Counts and test statistics; the Basel zone on the last 250 days for 99 % VaR (else None).
    """
    pnl_a = np.asarray(pnl, dtype=np.float64)
    var_a = np.asarray(var, dtype=np.float64)
    ok = np.isfinite(pnl_a) & np.isfinite(var_a)
    hits = (-pnl_a[ok]) > var_a[ok]
    lr, p = kupiec(int(hits.sum()), int(hits.size), coverage)
    ind, cc = christoffersen(hits, coverage)
    zone: tuple[str | None, float | None] = (None, None)
    if abs(coverage - 0.01) < 1e-12 and hits.size >= 250:
        zone = basel_zone(int(hits[-250:].sum()), 250)
    return BacktestResult(int(hits.size), int(hits.sum()), lr, p, ind, cc, float(stats.chi2.sf(cc, 2)), *zone)
