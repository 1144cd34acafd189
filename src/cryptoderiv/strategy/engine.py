r"""The vectorised single-instrument backtester: fees, slippage, perpetual funding and futures roll.

One instrument (spot, perpetual or a rolled dated future, linear: P&L in the quote currency, USD/USDT) is
simulated over bars ``i = 0 .. n-1`` with observation times ``ts[i]`` (UTC) and marks ``mark[i]``.

Timing convention (no look-ahead)
---------------------------------
At each bar ``i``, in this order:

1. the position held over ``(ts[i-1], ts[i]]`` (``units[i-1]``, coins) earns the price change
   ``units[i-1] * (mark_prev[i] - mark[i-1])``;
2. **funding** due at ``ts[i]`` (``funding[i]``, a decimal per interval; 0 where no funding is due) is paid on
   the notional held *into* the funding time: ``funding_pnl[i] = -units[i-1] * mark_prev[i] * funding[i]``.
   Sign convention (the venues'): a positive rate means **longs pay shorts**; a short receives it;
3. at a **roll** bar (``roll[i]``) the expiring contract (priced ``mark_prev[i]``) is closed and the same
   number of coins of the next contract (priced ``mark[i]``) is opened, both legs paying costs;
4. the target is applied at ``mark[i]``: ``target[i]`` (NaN = keep the position) is either a coin amount
   (``sizing="units"``) or a fraction of equity (``sizing="weight"``, the weight held *after* costs).

The signal that produces ``target[i]`` may only use data up to ``ts[i]``; the strategies here compute it
from closes up to and including bar ``i`` and trade at that close, like vectorbt's ``from_signals``.

Costs
-----
A buy executes at ``mark * (1 + slippage)`` and a sell at ``mark * (1 - slippage)``; the fee is ``fee`` times
the executed notional. Measured at the mark, a trade of notional ``|dN|`` costs
``|dN| * (slippage + fee * (1 + slippage))`` (buy) or ``|dN| * (slippage + fee * (1 - slippage))`` (sell).
Weight sizing solves for the notional ``N = w * E_after_costs`` exactly:

.. math::

    N = \frac{w\,(E + c_b N_0)}{1 + w\,c_b} \text{ if that is } \ge N_0, \text{ else }
    N = \frac{w\,(E - c_s N_0)}{1 - w\,c_s},

so ``weight = 1`` from flat buys ``E / (mark (1+s)(1+f))`` coins: all the cash, as vectorbt does with
``size=inf``.

Two implementations of the same recursion: :func:`simulate_kernel` (numba, one pass) and
:func:`simulate_reference` (NumPy, a loop over rebalancing segments, vectorised inside each segment).
The tests compare them; :func:`run` uses the kernel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

import numba
import numpy as np
import numpy.typing as npt

from cryptoderiv.errors import CryptoderivError

__all__ = [
    "BacktestInputError",
    "BacktestResult",
    "CostModel",
    "align_funding",
    "run",
    "simulate_kernel",
    "simulate_reference",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Sizing = Literal["units", "weight"]

#: rows of the kernel's output matrix
OUTPUT_ROWS = ("units", "equity", "price_pnl", "funding_pnl", "fee", "slippage", "traded_notional")


class BacktestInputError(CryptoderivError, ValueError):
    """Backtest inputs are inconsistent (lengths, non-finite or non-positive marks, bad parameters)."""


@dataclass(frozen=True)
class CostModel:
    """Proportional trading costs.

    Parameters
    ----------
    fee : float
        Fee as a decimal of the executed notional (0.0004 = 4 bp, a Binance USD-M taker fee).
    slippage : float
        Execution price offset as a decimal of the mark: buys fill at ``mark * (1 + slippage)``, sells at
        ``mark * (1 - slippage)``.
    """

    fee: float = 0.0
    slippage: float = 0.0

    def __post_init__(self) -> None:
        for name in ("fee", "slippage"):
            value = getattr(self, name)
            if not (np.isfinite(value) and 0.0 <= value < 0.5):
                raise BacktestInputError(f"CostModel.{name} must be in [0, 0.5), got {value!r}")

    @property
    def buy_rate(self) -> float:
        """Cost of a buy per unit of notional at the mark: ``s + f (1 + s)``."""
        return self.slippage + self.fee * (1.0 + self.slippage)

    @property
    def sell_rate(self) -> float:
        """Cost of a sell per unit of notional at the mark: ``s + f (1 - s)``."""
        return self.slippage + self.fee * (1.0 - self.slippage)


@dataclass(frozen=True)
class BacktestResult:
    """Bar-by-bar outcome of one simulated instrument (all money amounts in the quote currency, USD).

    Attributes
    ----------
    ts : numpy.ndarray
        Bar times, ``datetime64[ns]`` UTC (or integers if the caller gave integers).
    units, equity : numpy.ndarray
        Position after bar ``i`` (coins; negative = short) and equity marked at ``mark[i]`` after it.
    price_pnl, funding_pnl, fee, slippage : numpy.ndarray
        Per-bar components: price P&L, funding (negative = paid), fees and slippage paid (positive numbers).
    traded_notional : numpy.ndarray
        Absolute notional traded at bar ``i`` at the mark (both legs of a roll counted).
    """

    ts: npt.NDArray[np.generic]
    units: FloatArray
    equity: FloatArray
    price_pnl: FloatArray
    funding_pnl: FloatArray
    fee: FloatArray
    slippage: FloatArray
    traded_notional: FloatArray
    initial_equity: float = field(default=1.0)

    @property
    def pnl(self) -> FloatArray:
        """Total P&L per bar (USD): price + funding - fees - slippage."""
        return self.price_pnl + self.funding_pnl - self.fee - self.slippage

    def __add__(self, other: BacktestResult) -> BacktestResult:
        """Combine two legs on the same bars (equities and flows add; units are kept from the left leg)."""
        if self.ts.shape != other.ts.shape:
            raise BacktestInputError("cannot add backtests on different bars")
        return BacktestResult(
            ts=self.ts, units=self.units, equity=self.equity + other.equity,
            price_pnl=self.price_pnl + other.price_pnl, funding_pnl=self.funding_pnl + other.funding_pnl,
            fee=self.fee + other.fee, slippage=self.slippage + other.slippage,
            traded_notional=self.traded_notional + other.traded_notional,
            initial_equity=self.initial_equity + other.initial_equity,
        )


def _as_float(name: str, values: object, n: int | None = None) -> FloatArray:
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise BacktestInputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise BacktestInputError(f"{name} has {arr.shape[0]} rows, expected {n}")
    return arr


def align_funding(bar_ts: npt.ArrayLike, funding_ts: npt.ArrayLike, rates: npt.ArrayLike) -> FloatArray:
    """Place funding rates on bars: each rate lands on the first bar at or after its funding time.

    Parameters
    ----------
    bar_ts : array_like of datetime64 or int
        Bar observation times, UTC, increasing.
    funding_ts : array_like of datetime64 or int
        Funding times, UTC (e.g. Binance 00:00/08:00/16:00). Rates before the first bar or after the last
        are dropped; two rates falling on one bar add.
    rates : array_like
        Decimal rate per funding interval (0.0001 = 1 bp), positive = longs pay.

    Returns
    -------
    numpy.ndarray
        Funding rate per bar (0 where none is due), same length as ``bar_ts``.
    """
    bars = np.asarray(bar_ts)
    times = np.asarray(funding_ts)
    values = np.asarray(rates, dtype=np.float64)
    if times.shape != values.shape:
        raise BacktestInputError(f"funding_ts has shape {times.shape} but rates {values.shape}")
    if bars.size > 1 and np.any(bars[1:] <= bars[:-1]):
        raise BacktestInputError("bar_ts must be strictly increasing")
    out = np.zeros(bars.shape[0], dtype=np.float64)
    if bars.size == 0:
        return out
    idx = np.searchsorted(bars, times, side="left")
    keep = (idx < bars.shape[0]) & (times >= bars[0]) & np.isfinite(values)
    np.add.at(out, idx[keep], values[keep])
    return out


@numba.njit(cache=True, nogil=True)
def _target_notional(w: float, equity: float, n0: float, cb: float, cs: float) -> float:
    buy = w * (equity + cb * n0) / (1.0 + w * cb)
    if buy >= n0:
        return buy
    sell = w * (equity - cs * n0) / (1.0 - w * cs)
    if sell <= n0:
        return sell
    return n0


def _target_notional_np(w: float, equity: float, n0: float, cb: float, cs: float) -> float:
    buy = w * (equity + cb * n0) / (1.0 + w * cb)
    if buy >= n0:
        return float(buy)
    sell = w * (equity - cs * n0) / (1.0 - w * cs)
    if sell <= n0:
        return float(sell)
    return n0


@numba.njit(cache=True, nogil=True)
def simulate_kernel(mark: FloatArray, mark_prev: FloatArray, roll: BoolArray, target: FloatArray,
                    funding: FloatArray, weight_sizing: bool, initial_equity: float, fee: float,
                    slippage: float) -> FloatArray:  # pragma: no cover - compiled
    """Compiled one-pass simulation; returns a ``(7, n)`` matrix with the rows of :data:`OUTPUT_ROWS`.

    Arguments are validated by :func:`run`; conventions in the module docstring.
    """
    n = mark.shape[0]
    out = np.empty((7, n))  # every entry is written below
    cb = slippage + fee * (1.0 + slippage)
    cs = slippage + fee * (1.0 - slippage)
    units = 0.0
    equity = initial_equity
    for i in range(n):
        m = mark[i]
        out[2, i] = 0.0
        out[3, i] = 0.0
        out[4, i] = 0.0
        out[5, i] = 0.0
        out[6, i] = 0.0
        if i > 0:
            mp = mark_prev[i]
            dp = units * (mp - mark[i - 1])
            fund = -units * mp * funding[i]
            out[2, i] = dp
            out[3, i] = fund
            equity += dp + fund
            if roll[i] and units != 0.0:
                a = abs(units)
                close_rate = cs if units > 0.0 else cb
                open_rate = cb if units > 0.0 else cs
                f_close = a * mp * (1.0 + (-slippage if units > 0.0 else slippage)) * fee
                f_open = a * m * (1.0 + (slippage if units > 0.0 else -slippage)) * fee
                c_total = a * mp * close_rate + a * m * open_rate
                out[4, i] += f_close + f_open
                out[5, i] += c_total - f_close - f_open
                out[6, i] += a * (mp + m)
                equity -= c_total
        t = target[i]
        if t == t:  # not NaN
            n0 = units * m
            if weight_sizing:
                new_notional = _target_notional(t, equity, n0, cb, cs)
                new_units = new_notional / m
            else:
                new_units = t
            du = new_units - units
            if du != 0.0:
                dn = abs(du) * m
                if du > 0.0:
                    f = dn * (1.0 + slippage) * fee
                    c = dn * cb
                else:
                    f = dn * (1.0 - slippage) * fee
                    c = dn * cs
                out[4, i] += f
                out[5, i] += c - f
                out[6, i] += dn
                equity -= c
                units = new_units
        out[0, i] = units
        out[1, i] = equity
    return out


def simulate_reference(mark: FloatArray, mark_prev: FloatArray, roll: BoolArray, target: FloatArray,
                       funding: FloatArray, weight_sizing: bool, initial_equity: float, fee: float,
                       slippage: float) -> FloatArray:
    """The NumPy twin of :func:`simulate_kernel` (same arguments, same output).

    Between two *events* (bars with a finite target or a roll) the position is constant, so the price and
    funding P&L of every bar in the segment are array expressions; the loop runs over events only.
    """
    n = mark.shape[0]
    out = np.zeros((7, n))
    cb = slippage + fee * (1.0 + slippage)
    cs = slippage + fee * (1.0 - slippage)
    prev_mark = np.empty(n)
    prev_mark[0] = mark[0]
    prev_mark[1:] = mark[:-1]
    price_move = mark_prev - prev_mark
    funding_per_unit = -mark_prev * funding
    price_move[0] = 0.0
    funding_per_unit[0] = 0.0
    events = np.flatnonzero(~np.isnan(target) | roll)
    bounds = np.concatenate((events, [n]))
    units = 0.0
    equity = initial_equity
    start = 0
    for k in range(bounds.shape[0]):
        stop = int(bounds[k])
        # bars start..stop-1 are quiet (stop itself is the next event): constant position
        seg = slice(start, stop)
        dp = units * price_move[seg]
        fund = units * funding_per_unit[seg]
        out[2, seg] = dp
        out[3, seg] = fund
        out[0, seg] = units
        out[1, seg] = equity + np.cumsum(dp + fund)
        if stop > start:
            equity = float(out[1, stop - 1])
        if stop == n:
            break
        i = stop
        dp_i = units * price_move[i]
        fund_i = units * funding_per_unit[i]
        out[2, i] = dp_i
        out[3, i] = fund_i
        equity += dp_i + fund_i
        m = float(mark[i])
        if roll[i] and i > 0 and units != 0.0:
            a = abs(units)
            mp = float(mark_prev[i])
            long = units > 0.0
            f_close = a * mp * (1.0 - slippage if long else 1.0 + slippage) * fee
            f_open = a * m * (1.0 + slippage if long else 1.0 - slippage) * fee
            c_total = a * mp * (cs if long else cb) + a * m * (cb if long else cs)
            out[4, i] += f_close + f_open
            out[5, i] += c_total - f_close - f_open
            out[6, i] += a * (mp + m)
            equity -= c_total
        t = float(target[i])
        if not np.isnan(t):
            new_units = _target_notional_np(t, equity, units * m, cb, cs) / m if weight_sizing else t
            du = new_units - units
            if du != 0.0:
                dn = abs(du) * m
                f = dn * (1.0 + slippage if du > 0 else 1.0 - slippage) * fee
                c = dn * (cb if du > 0 else cs)
                out[4, i] += f
                out[5, i] += c - f
                out[6, i] += dn
                equity -= c
                units = new_units
        out[0, i] = units
        out[1, i] = equity
        start = i + 1
    return out


def run(
    ts: npt.ArrayLike,
    mark: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    sizing: Sizing = "units",
    costs: CostModel | None = None,
    funding: npt.ArrayLike | None = None,
    initial_equity: float = 1.0,
    mark_prev: npt.ArrayLike | None = None,
    roll: npt.ArrayLike | None = None,
    engine: Literal["numba", "numpy"] = "numba",
) -> BacktestResult:
    """Simulate one linear instrument bar by bar (conventions in the module docstring).

    Parameters
    ----------
    ts : array_like
        Bar times (UTC ``datetime64`` or integers), strictly increasing, length ``n``.
    mark : array_like
        Price of the held contract at ``ts[i]`` (quote currency per coin), finite and > 0.
    target : array_like
        Target per bar, NaN = keep the position: coins (``sizing="units"``) or a fraction of equity after
        costs (``sizing="weight"``, e.g. 1 = all in long, -1 = short the equity).
    sizing : {"units", "weight"}
        How ``target`` is read.
    costs : CostModel, optional
        Fees and slippage (none by default).
    funding : array_like, optional
        Perpetual funding rate due at each bar (decimal per interval, 0 where none; see
        :func:`align_funding`). Positive = longs pay.
    initial_equity : float
        Starting equity in the quote currency (USD).
    mark_prev, roll : array_like, optional
        For rolled futures: ``mark_prev[i]`` is the price at ``ts[i]`` of the contract held over the previous
        bar, ``roll[i]`` marks the bars where the position moves to the next contract (``mark[i]``). Default:
        no roll.
    engine : {"numba", "numpy"}
        The compiled kernel or its NumPy twin.

    Returns
    -------
    BacktestResult

    Raises
    ------
    BacktestInputError
        Inputs of different lengths, a non-positive or non-finite mark (named by row), bad parameters.
    """
    ts_arr = np.asarray(ts)
    m = _as_float("mark", mark)
    n = m.shape[0]
    if ts_arr.shape != (n,):
        raise BacktestInputError(f"ts has shape {ts_arr.shape}, expected ({n},)")
    bad = np.flatnonzero(~(np.isfinite(m) & (m > 0)))
    if bad.size:
        raise BacktestInputError(f"mark must be finite and > 0; row {int(bad[0])} is {m[bad[0]]!r}")
    tgt = _as_float("target", target, n)
    if np.any(np.isinf(tgt)):
        raise BacktestInputError(f"target row {int(np.flatnonzero(np.isinf(tgt))[0])} is infinite")
    if sizing not in ("units", "weight"):
        raise BacktestInputError(f"sizing must be 'units' or 'weight', got {sizing!r}")
    fund = np.zeros(n) if funding is None else _as_float("funding", funding, n)
    if not np.all(np.isfinite(fund)):
        raise BacktestInputError(f"funding row {int(np.flatnonzero(~np.isfinite(fund))[0])} is not finite")
    mp = m if mark_prev is None else _as_float("mark_prev", mark_prev, n)
    if mark_prev is not None:
        bad = np.flatnonzero(~(np.isfinite(mp) & (mp > 0)))
        if bad.size:
            raise BacktestInputError(f"mark_prev must be finite and > 0; row {int(bad[0])} is {mp[bad[0]]!r}")
    rl = np.zeros(n, dtype=np.bool_) if roll is None else np.ascontiguousarray(roll, dtype=np.bool_)
    if rl.shape != (n,):
        raise BacktestInputError(f"roll has shape {rl.shape}, expected ({n},)")
    if not (np.isfinite(initial_equity) and initial_equity >= 0) or (sizing == "weight" and initial_equity == 0):
        raise BacktestInputError(f"initial_equity must be > 0 (>= 0 for units sizing), got {initial_equity!r}")
    cm = costs or CostModel()
    if sizing == "weight" and np.nanmax(np.abs(tgt), initial=0.0) * max(cm.buy_rate, cm.sell_rate) >= 1.0:
        raise BacktestInputError("weight * cost rate must stay below 1")
    sim = simulate_kernel if engine == "numba" else simulate_reference
    out = sim(m, mp, rl, tgt, fund, sizing == "weight", float(initial_equity), cm.fee, cm.slippage)
    logger.debug("simulated %d bars (%s, %s sizing)", n, engine, sizing)
    return BacktestResult(ts=ts_arr, units=out[0], equity=out[1], price_pnl=out[2], funding_pnl=out[3],
                          fee=out[4], slippage=out[5], traded_notional=out[6],
                          initial_equity=float(initial_equity))
