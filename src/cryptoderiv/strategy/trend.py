"""Trend following: simple-moving-average crossover on closes.

The fast SMA crossing above the slow one goes long (weight ``+1`` of equity); crossing below goes flat, or
short (``-1``) when shorting is allowed. Targets are emitted only on the crossing bars (NaN elsewhere), and
trade at that bar's close: the signal uses closes up to and including the bar, like vectorbt's
``Portfolio.from_signals`` with ``MA.ma_crossed_above`` / ``ma_crossed_below``.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from cryptoderiv.strategy.engine import BacktestInputError, BacktestResult, CostModel, run

__all__ = ["crossover_kernel", "run_sma_crossover", "sma", "sma_crossover_targets"]


def sma(values: npt.ArrayLike, window: int) -> npt.NDArray[np.float64]:
    """Simple moving average over ``window`` bars (NaN for the first ``window - 1``), by cumulative sums.

    Each mean is ``(S_i - S_{i-w}) / w`` with ``S`` the running sum; the rounding error is about
    ``n * eps * mean(|x|)``, ~1e-9 relative for five million prices.
    """
    x = np.asarray(values, dtype=np.float64)
    if window < 1:
        raise BacktestInputError(f"window must be >= 1, got {window}")
    out = np.full(x.shape[0], np.nan)
    if x.shape[0] < window:
        return out
    c = np.cumsum(x)
    out[window - 1] = c[window - 1] / window
    out[window:] = (c[window:] - c[:-window]) / window
    return out


@numba.njit(cache=True, nogil=True)
def crossover_kernel(close: npt.NDArray[np.float64], fast: int, slow: int,
                     allow_short: bool) -> npt.NDArray[np.float64]:  # pragma: no cover - compiled
    """Compiled twin of :func:`sma_crossover_targets` (``engine="numpy"`` there): one pass, running sums."""
    n = close.shape[0]
    out = np.full(n, np.nan)
    sum_f = 0.0
    sum_s = 0.0
    prev_above = False
    prev_below = False
    down = -1.0 if allow_short else 0.0
    for i in range(n):
        x = close[i]
        sum_f += x
        sum_s += x
        if i >= fast:
            sum_f -= close[i - fast]
        if i >= slow:
            sum_s -= close[i - slow]
        if i >= slow - 1:
            f = sum_f / fast
            s = sum_s / slow
            above = f > s
            below = f < s
            if i >= slow:
                if above and not prev_above:
                    out[i] = 1.0
                elif below and not prev_below:
                    out[i] = down
            prev_above = above
            prev_below = below
    return out


def sma_crossover_targets(close: npt.ArrayLike, fast: int, slow: int,
                          allow_short: bool = False, engine: str = "numba") -> npt.NDArray[np.float64]:
    """Target weights of the SMA crossover: ``+1`` on an up-cross, ``0`` (or ``-1``) on a down-cross, NaN else.

    Parameters
    ----------
    close : array_like
        Closing prices.
    fast, slow : int
        Window lengths in bars, ``1 <= fast < slow``.
    allow_short : bool
        Go short on a down-cross instead of flat.
    engine : {"numba", "numpy"}
        :func:`crossover_kernel` (running sums, one pass) or the array expressions below (cumulative sums);
        the two agree except at exact ties within rounding.

    Returns
    -------
    numpy.ndarray
        Weight per bar for :func:`cryptoderiv.strategy.engine.run` with ``sizing="weight"``.
    """
    if not 1 <= fast < slow:
        raise BacktestInputError(f"need 1 <= fast < slow, got fast={fast}, slow={slow}")
    if engine == "numba":
        return np.asarray(crossover_kernel(np.ascontiguousarray(close, dtype=np.float64), fast, slow,
                                           allow_short))
    f = sma(close, fast)
    s = sma(close, slow)
    above = f > s
    below = f < s
    target = np.full(f.shape[0], np.nan)
    up = np.zeros(f.shape[0], dtype=bool)
    down = np.zeros(f.shape[0], dtype=bool)
    # a cross: strictly on one side now, not strictly on that side before (both SMAs defined)
    up[1:] = above[1:] & ~above[:-1] & ~np.isnan(s[:-1])
    down[1:] = below[1:] & ~below[:-1] & ~np.isnan(s[:-1])
    target[up] = 1.0
    target[down] = -1.0 if allow_short else 0.0
    return target


def run_sma_crossover(
    ts: npt.ArrayLike,
    close: npt.ArrayLike,
    fast: int,
    slow: int,
    *,
    costs: CostModel | None = None,
    funding: npt.ArrayLike | None = None,
    allow_short: bool = False,
    initial_equity: float = 10_000.0,
) -> BacktestResult:
    """Backtest the SMA crossover on one instrument (a perpetual when ``funding`` is given).

    Parameters
    ----------
    ts, close : array_like
        Bar times (UTC) and closes (USD per coin).
    fast, slow : int
        SMA windows in bars.
    costs : CostModel, optional
        Fees and slippage.
    funding : array_like, optional
        Funding rate per bar (see :func:`cryptoderiv.strategy.engine.align_funding`); positive = longs pay.
    allow_short : bool
        Long/short instead of long/flat.
    initial_equity : float
        Starting equity, USD.
    """
    targets = sma_crossover_targets(close, fast, slow, allow_short)
    return run(ts, close, targets, sizing="weight", costs=costs, funding=funding,
               initial_equity=initial_equity)
