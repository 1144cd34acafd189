"""Dated-futures roll: a continuous position through a chain of expiring contracts.

:func:`roll_chain` picks, for each bar, the contract held: the first whose expiry is more than ``roll_before``
after the bar. The position moves to the next contract on the first bar inside that window (the *roll bar*),
and the engine (:func:`cryptoderiv.strategy.engine.run` with ``mark_prev`` and ``roll``) books the price
change of the expiring contract up to the roll bar, then closes it and opens the next one, both legs paying
fees and slippage. No back-adjustment: the price jump between contracts is never P&L.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cryptoderiv.strategy.engine import BacktestInputError

__all__ = ["ONE_DAY", "RollChain", "roll_chain"]

ONE_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class RollChain:
    """Arrays for the engine: ``mark``, ``mark_prev``, ``roll`` and the index of the contract held per bar."""

    mark: npt.NDArray[np.float64]
    mark_prev: npt.NDArray[np.float64]
    roll: npt.NDArray[np.bool_]
    contract: npt.NDArray[np.intp]


def roll_chain(ts: npt.ArrayLike, prices: npt.ArrayLike, expiries: npt.ArrayLike,
               roll_before: np.timedelta64 = ONE_DAY) -> RollChain:
    """Build the held-contract series of a rolled futures position.

    Parameters
    ----------
    ts : array_like of datetime64
        Bar times, UTC, increasing (length ``n``).
    prices : array_like, shape (n, k)
        Mark of each of ``k`` contracts per bar (USD per coin); NaN where not listed.
    expiries : array_like of datetime64, shape (k,)
        Expiry time of each contract, UTC, increasing.
    roll_before : numpy.timedelta64
        Roll that long before expiry (default one day).

    Returns
    -------
    RollChain

    Raises
    ------
    BacktestInputError
        A bar after the last roll date, or the held contract has no price on a bar (row and contract named).
    """
    t = np.asarray(ts).astype("datetime64[ns]")
    p = np.asarray(prices, dtype=np.float64)
    e = np.asarray(expiries).astype("datetime64[ns]")
    if p.ndim != 2 or p.shape != (t.shape[0], e.shape[0]):
        raise BacktestInputError(f"prices must have shape ({t.shape[0]}, {e.shape[0]}), got {p.shape}")
    if e.shape[0] > 1 and np.any(e[1:] <= e[:-1]):
        raise BacktestInputError("expiries must be increasing")
    roll_dates = e - np.asarray(roll_before).astype("timedelta64[ns]")
    held = np.searchsorted(roll_dates, t, side="right")
    if np.any(held >= e.shape[0]):
        row = int(np.flatnonzero(held >= e.shape[0])[0])
        raise BacktestInputError(f"bar {row} ({t[row]}) is after the last contract's roll date")
    rows = np.arange(t.shape[0])
    mark = p[rows, held]
    prev_held = np.concatenate((held[:1], held[:-1]))
    mark_prev = p[rows, prev_held]
    for name, arr, contract in (("mark", mark, held), ("mark_prev", mark_prev, prev_held)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            row = int(bad[0])
            raise BacktestInputError(f"{name}: contract {int(contract[row])} has no price at bar {row}")
    return RollChain(mark=mark, mark_prev=mark_prev, roll=held != prev_held, contract=held)
