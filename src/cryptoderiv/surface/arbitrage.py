"""Static-arbitrage checks: butterfly (strike convexity), vertical spreads and calendar, on quotes and fits.

Quote checks work on call-equivalent undiscounted prices per expiry (out-of-the-money puts converted by
put-call parity ``C = P + F - K``, discount factor 1). Fit checks use Gatheral's ``g(k)`` per SVI slice
and the ordering of total variance across slices.

Every function returns a :class:`pandas.DataFrame` with one row per violation (empty when none) and
the columns ``check, t, t_next, strike, k, size``: ``size`` is the amount by which the no-arbitrage
inequality fails, in the unit of the check (USD price for quote checks on prices, total variance for
calendar checks, ``g`` for the butterfly function).
"""

from __future__ import annotations

import itertools
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from cryptoderiv.surface.chain import OptionChain
from cryptoderiv.surface.vol_surface import SmileSlice, VolSurface

FloatArray = npt.NDArray[np.float64]
QuotePrice = Literal["mark", "mid", "tradable"]
VIOLATION_COLUMNS = ("check", "t", "t_next", "strike", "k", "size")


def _frame(check: str, t: FloatArray, t_next: FloatArray, strike: FloatArray, k: FloatArray,
           size: FloatArray) -> pd.DataFrame:
    return pd.DataFrame({"check": np.full(t.size, check, dtype=object), "t": t, "t_next": t_next,
                         "strike": strike, "k": k, "size": size}, columns=list(VIOLATION_COLUMNS))


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "check" else np.float64)
                             for c in VIOLATION_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def call_equivalent_quotes(chain: OptionChain) -> pd.DataFrame:
    """One call-equivalent quote per (expiry, strike), from the out-of-the-money option.

    Parameters
    ----------
    chain : OptionChain
        Quotes (undiscounted USD).

    Returns
    -------
    pandas.DataFrame
        Sorted by ``(t, strike)`` with columns ``t, strike, forward, k, mark, bid, ask, mark_iv``;
        put prices are shifted by parity ``C = P + F - K`` (calls at ``K >= F``, puts below).

    Notes
    -----
    Using the OTM side keeps the quote with the tighter relative spread; with ``F`` known the shift is
    exact (the bid/ask of the forward itself is ignored).
    """
    otm = chain.is_otm
    shift = np.where(chain.is_call, 0.0, chain.forward - chain.strike)[otm]
    df = pd.DataFrame({
        "t": chain.t[otm], "strike": chain.strike[otm], "forward": chain.forward[otm],
        "k": chain.log_moneyness[otm], "mark": chain.mark[otm] + shift, "bid": chain.bid[otm] + shift,
        "ask": chain.ask[otm] + shift, "mark_iv": chain.mark_iv[otm],
    })
    return df.sort_values(["t", "strike"], kind="stable").reset_index(drop=True)


def quote_strike_violations(
    chain: OptionChain, price: QuotePrice = "mark", *, rtol: float = 1e-8
) -> pd.DataFrame:
    """Vertical-spread and butterfly arbitrage in one chain's quotes, per expiry along strikes.

    Parameters
    ----------
    chain : OptionChain
        Quotes.
    price : {"mark", "mid", "tradable"}, default "mark"
        ``"mark"`` / ``"mid"`` test the price curve itself; ``"tradable"`` tests executable trades
        (buy at the ask, sell at the bid).
    rtol : float, default 1e-8
        Tolerance as a fraction of the forward (absorbs rounding of exchange marks).

    Returns
    -------
    pandas.DataFrame
        Violations with ``check`` in ``{"vertical_monotone", "vertical_slope", "butterfly"}``;
        ``strike`` is the middle strike for butterflies and the lower strike for verticals.

    Notes
    -----
    For consecutive strikes ``K1 < K2 < K3`` of one expiry and call prices ``C``:
    ``C1 - C2 >= 0`` (monotone), ``C1 - C2 <= K2 - K1`` (slope >= -1) and
    ``C1 (K3 - K2)/(K3 - K1) - C2 + C3 (K2 - K1)/(K3 - K1) >= 0`` (convexity). In ``"tradable"`` mode the
    long legs use the ask and the short legs the bid, so a violation is a trade with negative cost.

    References
    ----------
    P. Carr and D. Madan, "A note on sufficient conditions for no arbitrage", Finance Research Letters
    2(3), 2005.
    """
    q = call_equivalent_quotes(chain)
    if price == "tradable":
        long_p, short_p = q["ask"].to_numpy(), q["bid"].to_numpy()
    else:
        col = "mark" if price == "mark" else None
        p = q[col].to_numpy() if col else 0.5 * (q["bid"].to_numpy() + q["ask"].to_numpy())
        long_p = short_p = p
    t = q["t"].to_numpy()
    K = q["strike"].to_numpy()
    k = q["k"].to_numpy()
    tol = rtol * q["forward"].to_numpy()
    frames: list[pd.DataFrame] = []
    # verticals on (i, i+1): buy C(K1) at long price, sell C(K2) at short price
    same2 = t[:-1] == t[1:]
    cost_mono = long_p[:-1] - short_p[1:]                 # must be >= 0
    cost_slope = (K[1:] - K[:-1]) - (short_p[:-1] - long_p[1:])  # buy C2 + (K2-K1) bond, sell C1: >= 0
    for name, cost in (("vertical_monotone", cost_mono), ("vertical_slope", cost_slope)):
        bad = same2 & np.isfinite(cost) & (cost < -tol[:-1])
        frames.append(_frame(name, t[:-1][bad], np.full(bad.sum(), np.nan), K[:-1][bad], k[:-1][bad],
                             -cost[bad]))
    # butterflies on (i-1, i, i+1)
    same3 = (t[:-2] == t[1:-1]) & (t[1:-1] == t[2:])
    K1, K2, K3 = K[:-2], K[1:-1], K[2:]
    w1 = (K3 - K2) / (K3 - K1)
    w3 = (K2 - K1) / (K3 - K1)
    cost_fly = w1 * long_p[:-2] - short_p[1:-1] + w3 * long_p[2:]
    bad = same3 & np.isfinite(cost_fly) & (cost_fly < -tol[1:-1])
    frames.append(_frame("butterfly", t[1:-1][bad], np.full(bad.sum(), np.nan), K2[bad], k[1:-1][bad],
                         -cost_fly[bad]))
    return _concat(frames)


def quote_calendar_violations(chain: OptionChain, *, atol: float = 1e-6) -> pd.DataFrame:
    """Calendar arbitrage in quotes: total mark variance must not fall with maturity at fixed ``k``.

    Parameters
    ----------
    chain : OptionChain
        Quotes with mark implied volatilities.
    atol : float, default 1e-6
        Tolerance in total variance.

    Returns
    -------
    pandas.DataFrame
        ``check = "calendar"``; one row per quote of the shorter expiry ``t`` whose total variance
        exceeds the next expiry's (``t_next``) at the same log forward moneyness ``k``; ``size`` is
        ``w_t(k) - w_next(k)``.

    Notes
    -----
    With zero rates and forwards from futures, the forward-normalised call price at fixed ``K/F`` is
    increasing in maturity iff ``w(k, t)`` is (Gatheral & Jacquier 2014, Lemma 2.1). The next expiry's
    ``w`` is linearly interpolated in ``k`` between its quotes; quotes outside its quoted ``k`` range are
    not tested. Only out-of-the-money quotes with a mark IV are used.

    References
    ----------
    J. Gatheral and A. Jacquier, "Arbitrage-free SVI volatility surfaces", Quant. Finance 14(1), 2014.
    """
    q = call_equivalent_quotes(chain)
    q = q[np.isfinite(q["mark_iv"]) & (q["mark_iv"] > 0)]
    w_all = q["mark_iv"].to_numpy() ** 2 * q["t"].to_numpy()
    ts = np.unique(q["t"].to_numpy())
    frames: list[pd.DataFrame] = []
    tq = q["t"].to_numpy()
    kq = q["k"].to_numpy()
    Kq = q["strike"].to_numpy()
    for t0, t1 in itertools.pairwise(ts):  # loop over expiry pairs, vectorised inside
        a = tq == t0
        b = tq == t1
        kb, wb = kq[b], w_all[b]
        if kb.size < 2:
            continue
        o = np.argsort(kb)
        kb, wb = kb[o], wb[o]
        ka = kq[a]
        inside = (ka >= kb[0]) & (ka <= kb[-1])
        w_next = np.interp(ka, kb, wb)
        gap = w_all[a] - w_next
        bad = inside & (gap > atol)
        frames.append(_frame("calendar", tq[a][bad], np.full(bad.sum(), t1), Kq[a][bad], ka[bad], gap[bad]))
    return _concat(frames)


def _slice_range(s: SmileSlice) -> tuple[float, float]:
    """Quoted log-moneyness range of a slice; +-3 ATM standard deviations when it was not fitted."""
    if s.fit is not None:
        return s.fit.k_min, s.fit.k_max
    sd = float(np.sqrt(max(float(s.params.total_variance(0.0)), 1e-12)))
    return -3.0 * sd, 3.0 * sd


def surface_butterfly_violations(
    surface: VolSurface, k: npt.ArrayLike | None = None, *, atol: float = 1e-10, points: int = 401
) -> pd.DataFrame:
    """Butterfly arbitrage in fitted SVI slices: points where Gatheral's ``g(k) < 0``.

    Parameters
    ----------
    surface : VolSurface
        Fitted surface.
    k : array_like, optional
        Log-moneyness grid for every slice. Default: per slice, ``points`` points over its quoted range
        widened by 50 % of its width on each side.
    atol : float, default 1e-10
        Tolerance on ``g``.
    points : int, default 401
        Size of the default grid.

    Returns
    -------
    pandas.DataFrame
        ``check = "svi_butterfly"``; ``size = -g(k)``.

    Notes
    -----
    ``g(k) = (1 - k w'/(2w))**2 - (w'**2/4)(1/w + 1/4) + w''/2``; the density of ``ln(S_T/F)`` is
    proportional to ``g``, so ``g < 0`` is a butterfly with negative price under the fitted smile.

    References
    ----------
    J. Gatheral and A. Jacquier, "Arbitrage-free SVI volatility surfaces", Quant. Finance 14(1), 2014,
    Lemma 2.2.
    """
    frames = []
    for s in surface.slices:
        if k is None:
            lo, hi = _slice_range(s)
            span = hi - lo
            grid = np.linspace(lo - 0.5 * span, hi + 0.5 * span, points)
        else:
            grid = np.asarray(k, dtype=np.float64)
        g = s.params.butterfly_g(grid)
        bad = g < -atol
        frames.append(_frame("svi_butterfly", np.full(bad.sum(), s.t), np.full(bad.sum(), np.nan),
                             s.forward * np.exp(grid[bad]), grid[bad], -g[bad]))
    return _concat(frames)


def surface_calendar_violations(
    surface: VolSurface, k: npt.ArrayLike | None = None, *, atol: float = 1e-10, points: int = 201
) -> pd.DataFrame:
    """Calendar arbitrage between consecutive fitted slices: ``w_{i+1}(k) < w_i(k)``.

    Parameters
    ----------
    surface : VolSurface
        Fitted surface.
    k : array_like, optional
        Log-moneyness grid for every pair. Default: per pair of consecutive slices, ``points`` points
        over the overlap of their quoted ranges (extrapolated SVI wings are not tested).
    atol : float, default 1e-10
        Tolerance in total variance.
    points : int, default 201
        Size of the default grid.

    Returns
    -------
    pandas.DataFrame
        ``check = "svi_calendar"``; ``size = w_i(k) - w_{i+1}(k)``; ``strike`` uses the shorter
        slice's forward.

    Notes
    -----
    At fixed log forward moneyness the total implied variance must be non-decreasing in maturity
    (Gatheral & Jacquier 2014, Lemma 2.1; zero rates).
    """
    frames = []
    for s0, s1 in itertools.pairwise(surface.slices):
        if k is None:
            lo0, hi0 = _slice_range(s0)
            lo1, hi1 = _slice_range(s1)
            lo, hi = max(lo0, lo1), min(hi0, hi1)
            if hi <= lo:
                continue
            grid = np.linspace(lo, hi, points)
        else:
            grid = np.asarray(k, dtype=np.float64)
        gap = s0.params.total_variance(grid) - s1.params.total_variance(grid)
        bad = gap > atol
        frames.append(_frame("svi_calendar", np.full(bad.sum(), s0.t), np.full(bad.sum(), s1.t),
                             s0.forward * np.exp(grid[bad]), grid[bad], gap[bad]))
    return _concat(frames)
