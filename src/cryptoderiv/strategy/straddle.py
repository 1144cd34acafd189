r"""Delta-hedged short straddle with cash settlement at expiry.

Every cycle sells ``q`` at-the-money straddles (a call and a put on strike ``K`` = the forward at the sale)
expiring ``tenor`` later, marks them every bar with Black-76 (:mod:`cryptoderiv.pricing.black76`, or the
coin premium of :mod:`cryptoderiv.pricing.inverse` for inverse options) at that bar's implied vol, and
**cash-settles** them at the first bar at or after expiry against the index: ``(S_T - K)^+ + (K - S_T)^+``
USD per coin (linear), or that divided by ``S_T`` in **coin** (inverse, Deribit). A new straddle is sold at
the settlement bar. ``q = size_fraction * initial_equity / S`` coins per leg at each sale.

The delta is hedged with a perpetual (funding applied, positive = longs pay) every ``hedge_every`` bars and at
every sale. Linear options: hedge ``+q (Delta_c + Delta_p)`` coins. Inverse options: the option account is a
coin balance ``W`` (premiums received minus settlements and fees, minus ``q`` times the coin mark), worth
``W S`` USD, whose exposure is ``dW S / dS = W - q (Delta_adj,c + Delta_adj,p)`` coins (``Delta_adj`` = Deribit's
net delta, :func:`cryptoderiv.pricing.inverse.greeks`); the hedge is its negative.

Option fees (Deribit's schedule): ``min(option_fee * S, 0.125 * premium)`` per option at the sale, in the
premium's unit. Rates are zero (undiscounted Black-76, as Deribit marks); ``forward`` defaults to the index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from cryptoderiv.pricing import black76, inverse
from cryptoderiv.strategy.engine import BacktestInputError, BacktestResult, CostModel, run

__all__ = ["StraddleBacktest", "run_short_straddle", "straddle_cycles"]

_NS_PER_YEAR = 365.0 * 86_400e9
ONE_WEEK = np.timedelta64(7, "D")
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class StraddleBacktest:
    """Outcome: ``total`` (USD; options + hedge), the two legs, and the option account in its own unit.

    Attributes
    ----------
    total, hedge : BacktestResult
        USD equity and flows of the whole strategy and of the perpetual hedge.
    option_value : numpy.ndarray
        Option account per bar: USD (linear) or **coin** (inverse, ``option_unit == "coin"``).
    option_unit : str
        ``"USD"`` or ``"coin"``.
    settlements : numpy.ndarray
        Settlement paid per bar (per straddle sold, in ``option_unit``, ``q`` included); 0 off expiry bars.
    """

    total: BacktestResult
    hedge: BacktestResult
    option_value: FloatArray
    option_unit: str
    settlements: FloatArray


def straddle_cycles(ts: npt.ArrayLike, tenor: np.timedelta64) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Sale bars and cycle index per bar: a straddle is sold at bar 0 and at each settlement bar.

    Returns
    -------
    (starts, cycle)
        ``starts[k]`` = bar of the k-th sale; ``cycle[i]`` = the cycle held after bar ``i``.
    """
    t = np.asarray(ts).astype("datetime64[ns]")
    step = np.asarray(tenor).astype("timedelta64[ns]")
    if step <= np.timedelta64(0, "ns"):
        raise BacktestInputError(f"tenor must be positive, got {tenor}")
    starts = [0]
    while True:
        nxt = int(np.searchsorted(t, t[starts[-1]] + step, side="left"))
        if nxt >= t.shape[0]:
            break
        starts.append(nxt)
    start_arr = np.asarray(starts, dtype=np.intp)
    cycle = np.searchsorted(start_arr, np.arange(t.shape[0]), side="right") - 1
    return start_arr, cycle.astype(np.intp)


def run_short_straddle(
    ts: npt.ArrayLike,
    index: npt.ArrayLike,
    implied_vol: npt.ArrayLike,
    *,
    tenor: np.timedelta64 = ONE_WEEK,
    forward: npt.ArrayLike | None = None,
    settlement: Literal["linear", "inverse"] = "linear",
    size_fraction: float = 1.0,
    hedge_every: int = 1,
    option_fee: float = 0.0003,
    hedge_costs: CostModel | None = None,
    funding: npt.ArrayLike | None = None,
    initial_equity: float = 10_000.0,
) -> StraddleBacktest:
    """Backtest the delta-hedged short ATM straddle (conventions in the module docstring).

    Parameters
    ----------
    ts : array_like of datetime64
        Bar times, UTC, increasing.
    index : array_like
        Index (settlement) price, USD per coin; also the hedge's mark.
    implied_vol : array_like
        ATM implied vol per bar, annual decimal (e.g. Deribit DVOL / 100).
    tenor : numpy.timedelta64
        Time from sale to expiry.
    forward : array_like, optional
        Forward for the option's expiry (default: the index, zero basis).
    settlement : {"linear", "inverse"}
        USD-settled options, or coin-settled (Deribit) ones: premium and settlement in coin.
    size_fraction : float
        Coins per leg at each sale as a fraction of ``initial_equity / index``.
    hedge_every : int
        Re-hedge every that many bars (and at every sale).
    option_fee : float
        Option fee as a decimal of the underlying (capped at 12.5 % of the premium).
    hedge_costs : CostModel, optional
        Fees and slippage of the perpetual hedge.
    funding : array_like, optional
        Funding per bar on the hedge.
    initial_equity : float
        Starting capital, USD.

    Raises
    ------
    BacktestInputError
        Shapes differ, a non-positive index or vol (row named), bad parameters.
    """
    t = np.asarray(ts).astype("datetime64[ns]")
    s = np.asarray(index, dtype=np.float64)
    vol = np.asarray(implied_vol, dtype=np.float64)
    fwd = s if forward is None else np.asarray(forward, dtype=np.float64)
    n = s.shape[0]
    for name, arr in (("index", s), ("implied_vol", vol), ("forward", fwd)):
        if arr.shape != (n,) or t.shape != (n,):
            raise BacktestInputError(f"{name} has shape {arr.shape}, expected ({n},) like ts {t.shape}")
        bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
        if bad.size:
            raise BacktestInputError(f"{name} must be finite and > 0; row {int(bad[0])} is {arr[bad[0]]!r}")
    if settlement not in ("linear", "inverse"):
        raise BacktestInputError(f"settlement must be 'linear' or 'inverse', got {settlement!r}")
    if hedge_every < 1 or size_fraction <= 0:
        raise BacktestInputError(f"need hedge_every >= 1 and size_fraction > 0 ({hedge_every}, {size_fraction})")

    starts, cycle = straddle_cycles(t, tenor)
    step = np.asarray(tenor).astype("timedelta64[ns]")
    strike_k = fwd[starts]
    expiry_k = t[starts] + step
    qty_k = size_fraction * initial_equity / s[starts]
    prev_cycle = np.concatenate((cycle[:1], cycle[:-1]))
    is_start = np.zeros(n, dtype=bool)
    is_start[starts] = True

    def years_to(expiry: npt.NDArray[np.datetime64]) -> FloatArray:
        return np.maximum((expiry - t).astype(np.int64) / _NS_PER_YEAR, 0.0)

    def value(c: npt.NDArray[np.intp]) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        tau = years_to(expiry_k[c])
        k = strike_k[c]
        expired = tau <= 0.0
        # expired: settle on the index (intrinsic at t = 0 on the index)
        f = np.where(expired, s, fwd)
        if settlement == "linear":
            g = black76.price_and_greeks(np.array([1.0, -1.0])[:, None], f, k, tau, vol)
            legs = np.asarray(g["price"])
            delta = np.asarray(g["delta"]).sum(axis=0)
        else:
            gi = inverse.greeks(np.array([1.0, -1.0])[:, None], f, k, tau, vol)
            legs = np.asarray(gi["price_coin"])
            delta = np.asarray(gi["delta_adjusted"]).sum(axis=0)
        return legs.sum(axis=0), delta, legs[0], legs[1]

    v_new, delta_new, call_new, put_new = value(cycle)
    v_old, _, _, _ = value(prev_cycle)
    q_new = qty_k[cycle]
    q_old = qty_k[prev_cycle]

    # option account: premiums in, settlements out, fees out, minus the mark of the straddle held
    fee_per_leg_c = np.minimum(option_fee * (s if settlement == "linear" else 1.0), 0.125 * call_new)
    fee_per_leg_p = np.minimum(option_fee * (s if settlement == "linear" else 1.0), 0.125 * put_new)
    option_fees = np.where(is_start, q_new * (fee_per_leg_c + fee_per_leg_p), 0.0)
    premium_in = np.where(is_start, q_new * v_new, 0.0)
    settle_out = np.zeros(n)
    settle_out[1:] = np.where(is_start[1:], q_old[1:] * v_old[1:], 0.0)
    cash = np.cumsum(premium_in - settle_out - option_fees)
    account = cash - q_new * v_new  # USD (linear) or coin (inverse)

    if settlement == "linear":
        option_usd = account
        hedge_units = q_new * delta_new
        option_fee_usd = option_fees
    else:
        option_usd = account * s
        hedge_units = q_new * delta_new - account
        option_fee_usd = option_fees * s
    target = np.full(n, np.nan)
    rebalance = is_start | (np.arange(n) % hedge_every == 0)
    target[rebalance] = hedge_units[rebalance]
    hedge = run(t, s, target, sizing="units", costs=hedge_costs, funding=funding,
                initial_equity=initial_equity)

    option_pnl = np.diff(option_usd, prepend=0.0) + option_fee_usd  # before fees
    option_pnl[0] = option_usd[0] + option_fee_usd[0]
    traded = np.where(is_start, 2.0 * q_new * s, 0.0)
    total = BacktestResult(
        ts=t, units=hedge.units, equity=hedge.equity + option_usd,
        price_pnl=hedge.price_pnl + option_pnl, funding_pnl=hedge.funding_pnl,
        fee=hedge.fee + option_fee_usd, slippage=hedge.slippage,
        traded_notional=hedge.traded_notional + traded, initial_equity=initial_equity,
    )
    return StraddleBacktest(total=total, hedge=hedge, option_value=account,
                            option_unit="USD" if settlement == "linear" else "coin",
                            settlements=settle_out)
