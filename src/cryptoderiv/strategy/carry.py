"""Funding / basis carry: long spot, short the same coin amount of a perpetual (or a rolled dated future).

The pair is delta-neutral; it earns the funding a short perpetual receives (positive rates: longs pay
shorts) or the basis a short future converges through, and pays fees and slippage on both legs. The
capital ``initial_equity`` (USD) buys ``notional_fraction`` of itself in spot when the trade is on; the
short leg is margined from the same capital (its own starting equity is zero).

:func:`funding_carry_signal` switches the trade on when the trailing mean of the last ``lookback``
realised funding rates exceeds ``enter_above`` and off when it falls below ``exit_below``; it decides at
funding times only, from rates already paid (no look-ahead).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cryptoderiv.strategy.engine import BacktestInputError, BacktestResult, CostModel, run

__all__ = ["funding_carry_signal", "run_carry"]


def funding_carry_signal(funding: npt.ArrayLike, lookback: int = 3, enter_above: float = 0.0,
                         exit_below: float = 0.0) -> npt.NDArray[np.bool_]:
    """On/off state per bar from the funding paid so far.

    Parameters
    ----------
    funding : array_like
        Funding rate per bar (decimal per interval, 0 where none is due), as from
        :func:`cryptoderiv.strategy.engine.align_funding`.
    lookback : int
        Number of past funding events averaged.
    enter_above, exit_below : float
        Hysteresis thresholds on that mean (decimal per interval), ``exit_below <= enter_above``.

    Returns
    -------
    numpy.ndarray of bool
        ``True`` where the carry trade is held after the bar.
    """
    f = np.asarray(funding, dtype=np.float64)
    if lookback < 1 or exit_below > enter_above:
        raise BacktestInputError(f"need lookback >= 1 and exit_below <= enter_above "
                                 f"(lookback={lookback}, {exit_below} > {enter_above})")
    events = np.flatnonzero(f != 0.0)
    state = np.full(f.shape[0], np.nan)
    if events.size >= lookback:
        c = np.cumsum(f[events])
        means = np.empty(events.size - lookback + 1)
        means[0] = c[lookback - 1] / lookback
        means[1:] = (c[lookback:] - c[:-lookback]) / lookback
        at = events[lookback - 1:]
        decided = np.where(means > enter_above, 1.0, np.where(means < exit_below, 0.0, np.nan))
        state[at] = decided
    # hysteresis: carry the last decision forward (ffill via running index of the last non-NaN bar)
    idx = np.where(~np.isnan(state), np.arange(f.shape[0]), 0)
    np.maximum.accumulate(idx, out=idx)
    filled = state[idx]
    return np.nan_to_num(filled, nan=0.0) > 0.5


def run_carry(
    ts: npt.ArrayLike,
    spot: npt.ArrayLike,
    hedge_mark: npt.ArrayLike,
    active: npt.ArrayLike,
    *,
    funding: npt.ArrayLike | None = None,
    hedge_mark_prev: npt.ArrayLike | None = None,
    roll: npt.ArrayLike | None = None,
    spot_costs: CostModel | None = None,
    hedge_costs: CostModel | None = None,
    notional_fraction: float = 0.5,
    rebalance_every: int = 0,
    initial_equity: float = 10_000.0,
) -> tuple[BacktestResult, BacktestResult]:
    """Backtest the cash-and-carry pair; returns ``(spot_leg, hedge_leg)`` (add them for the total).

    Parameters
    ----------
    ts, spot : array_like
        Bar times (UTC) and spot closes (USD per coin).
    hedge_mark : array_like
        Mark of the short leg: the perpetual, or the held future (:func:`~cryptoderiv.strategy.futures.roll_chain`).
    active : array_like of bool
        Whether the pair is held after each bar (e.g. :func:`funding_carry_signal`, or all True).
    funding : array_like, optional
        Funding per bar on the short leg (perpetuals); positive = longs pay, so the short receives it.
    hedge_mark_prev, roll : array_like, optional
        Roll inputs of a dated-futures short leg.
    spot_costs, hedge_costs : CostModel, optional
        Costs of each leg.
    notional_fraction : float
        Spot notional as a fraction of the starting capital, in (0, 1].
    rebalance_every : int
        Re-size both legs to ``notional_fraction * initial_equity`` every that many bars while on (0: only
        at entry).
    initial_equity : float
        Capital, USD.
    """
    s = np.asarray(spot, dtype=np.float64)
    on = np.asarray(active, dtype=bool)
    if on.shape != s.shape:
        raise BacktestInputError(f"active has shape {on.shape}, expected {s.shape}")
    if not 0.0 < notional_fraction <= 1.0:
        raise BacktestInputError(f"notional_fraction must be in (0, 1], got {notional_fraction}")
    prev = np.concatenate(([False], on[:-1]))
    change = on != prev
    coins = notional_fraction * initial_equity / s
    target = np.full(s.shape[0], np.nan)
    resize = change.copy()
    if rebalance_every > 0:
        resize |= on & (np.arange(s.shape[0]) % rebalance_every == 0)
    target[resize] = np.where(on[resize], coins[resize], 0.0)
    # the short leg mirrors the spot leg's coin amount
    spot_leg = run(ts, s, target, sizing="units", costs=spot_costs, initial_equity=initial_equity)
    hedge_leg = run(ts, hedge_mark, -target, sizing="units", costs=hedge_costs, funding=funding,
                    initial_equity=0.0, mark_prev=hedge_mark_prev, roll=roll)
    return spot_leg, hedge_leg
