r"""Performance metrics of an equity curve, annualised on 365 days (crypto trades every day).

Conventions: simple returns per bar ``r_i = E_i / E_{i-1} - 1``; the number of periods per year is
``365 days / bar spacing`` (the median spacing of the timestamps), so a 1-minute series has 525,600 and a
daily one 365. All ratios use a zero risk-free rate and a zero target.

.. math::

    \text{Sharpe} = \frac{\bar r}{s_r}\sqrt{P}, \qquad
    \text{Sortino} = \frac{\bar r}{\sqrt{\tfrac1N \sum_i \min(r_i, 0)^2}}\sqrt{P},

    \text{MDD} = \max_i \Big(1 - \frac{E_i}{\max_{j \le i} E_j}\Big), \qquad
    \text{CAGR} = \Big(\frac{E_N}{E_0}\Big)^{365 / D} - 1, \qquad \text{Calmar} = \frac{\text{CAGR}}{\text{MDD}},

with ``s_r`` the sample standard deviation (``ddof=1``), ``N`` the number of returns, ``P`` periods per year
and ``D`` the span in days. Turnover is the traded notional per year over the mean equity:
``sum |traded| / mean(E) * 365 / D`` (1.0 = the book traded once a year).

References
----------
W. F. Sharpe, "The Sharpe ratio", J. Portfolio Management 21(1) (1994) 49-58.
F. A. Sortino, L. N. Price, "Performance measurement in a downside risk framework", J. Investing 3(3)
(1994) 59-64.
T. W. Young, "Calmar ratio: a smoother tool", Futures 20(1) (1991) 40.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from cryptoderiv.strategy.engine import BacktestInputError, BacktestResult

__all__ = ["DAYS_PER_YEAR", "PerformanceMetrics", "compute_metrics", "max_drawdown", "periods_per_year",
           "result_metrics"]

DAYS_PER_YEAR = 365.0
_NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class PerformanceMetrics:
    """Headline figures of a backtest (decimals: 0.25 = 25 %; annualised on 365 days)."""

    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    calmar: float
    turnover: float
    periods_per_year: float
    days: float

    def as_dict(self) -> dict[str, float]:
        """The metrics as a plain mapping (for tables and JSON)."""
        return asdict(self)


def periods_per_year(ts: npt.ArrayLike) -> float:
    """365 days divided by the median bar spacing of ``ts`` (``datetime64`` UTC)."""
    t = np.asarray(ts).astype("datetime64[ns]").astype(np.int64)
    if t.shape[0] < 2:
        raise BacktestInputError("need at least two timestamps to infer the bar spacing")
    step = float(np.median(np.diff(t)))
    if step <= 0:
        raise BacktestInputError("timestamps must be increasing")
    return DAYS_PER_YEAR * _NS_PER_DAY / step


def max_drawdown(equity: npt.ArrayLike) -> float:
    """Largest peak-to-trough fall as a decimal of the peak (0.2 = -20 %)."""
    e = np.asarray(equity, dtype=np.float64)
    peak = np.maximum.accumulate(e)
    return float(np.max(1.0 - e / peak)) if e.size else 0.0


def compute_metrics(
    equity: npt.ArrayLike,
    ts: npt.ArrayLike,
    traded_notional: npt.ArrayLike | None = None,
) -> PerformanceMetrics:
    """Metrics of an equity curve (module docstring has the formulas).

    Parameters
    ----------
    equity : array_like
        Equity per bar (USD or coin, any positive unit), first value = starting equity.
    ts : array_like of datetime64
        Bar times, UTC, increasing; spacing sets the annualisation.
    traded_notional : array_like, optional
        Absolute notional traded per bar, same unit as ``equity`` (turnover is NaN without it).

    Returns
    -------
    PerformanceMetrics
        NaN ratios where undefined (flat curve, no drawdown); the reason is the zero denominator.

    Raises
    ------
    BacktestInputError
        Fewer than two bars, lengths differ, or equity not strictly positive (row named).
    """
    e = np.asarray(equity, dtype=np.float64)
    t = np.asarray(ts).astype("datetime64[ns]")
    if e.ndim != 1 or e.shape != t.shape or e.shape[0] < 2:
        raise BacktestInputError(f"equity {e.shape} and ts {t.shape} must be 1-D of the same length >= 2")
    bad = np.flatnonzero(~(np.isfinite(e) & (e > 0)))
    if bad.size:
        raise BacktestInputError(f"equity must be finite and > 0; row {int(bad[0])} is {e[bad[0]]!r}")
    ppy = periods_per_year(t)
    days = float((t[-1] - t[0]).astype(np.int64)) / _NS_PER_DAY
    r = e[1:] / e[:-1] - 1.0
    mean = float(np.mean(r))
    std = float(np.std(r, ddof=1)) if r.size > 1 else math.nan
    downside = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2)))
    total = float(e[-1] / e[0] - 1.0)
    cagr = float((e[-1] / e[0]) ** (DAYS_PER_YEAR / days) - 1.0) if days > 0 else math.nan
    mdd = max_drawdown(e)
    turnover = math.nan
    if traded_notional is not None:
        tn = np.asarray(traded_notional, dtype=np.float64)
        if tn.shape != e.shape:
            raise BacktestInputError(f"traded_notional {tn.shape} must match equity {e.shape}")
        turnover = float(np.sum(np.abs(tn)) / np.mean(e) * DAYS_PER_YEAR / days) if days > 0 else math.nan
    return PerformanceMetrics(
        total_return=total,
        cagr=cagr,
        volatility=std * math.sqrt(ppy),
        sharpe=mean / std * math.sqrt(ppy) if std > 0 else math.nan,
        sortino=mean / downside * math.sqrt(ppy) if downside > 0 else math.nan,
        max_drawdown=mdd,
        calmar=cagr / mdd if mdd > 0 else math.nan,
        turnover=turnover,
        periods_per_year=ppy,
        days=days,
    )


def result_metrics(result: BacktestResult) -> PerformanceMetrics:
    """:func:`compute_metrics` of a :class:`~cryptoderiv.strategy.engine.BacktestResult`."""
    return compute_metrics(result.equity, result.ts, result.traded_notional)
