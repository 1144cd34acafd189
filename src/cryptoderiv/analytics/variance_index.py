"""A 30-day model-free implied variance index, computed like the Cboe VIX / Deribit DVOL.

Per expiry the variance of the log return to expiry is replicated by a strip of out-of-the-money
options (Cboe VIX white paper); two expiries around the horizon are interpolated linearly in total
variance and annualised over the horizon. The result is quoted in volatility (decimal; ``x 100`` for
index points).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from cryptoderiv.errors import CryptoderivError
from cryptoderiv.surface.chain import OptionChain

FloatArray = npt.NDArray[np.float64]
PriceSource = Literal["mark", "mid"]


class VarianceIndexError(CryptoderivError):
    """The index cannot be computed (no usable expiry, empty strip)."""


@dataclass(frozen=True, slots=True)
class ExpiryVariance:
    """Model-free variance of one expiry.

    Parameters
    ----------
    t : float
        Time to expiry, years.
    variance : float
        Annualised variance ``sigma**2`` of the expiry (``t * variance`` is the total variance).
    k0 : float
        The strike ``K_0``: the highest listed strike at or below the forward.
    forward : float
        Forward used.
    n_strikes : int
        Number of strikes in the strip.
    """

    t: float
    variance: float
    k0: float
    forward: float
    n_strikes: int


@dataclass(frozen=True, slots=True)
class VarianceIndex:
    """A constant-maturity variance index.

    Parameters
    ----------
    value : float
        Index as a volatility, decimal (DVOL / VIX points are ``100 * value``).
    horizon : float
        Target horizon in years (30/365 by default).
    near, next : ExpiryVariance
        The two expiries interpolated (equal when a single expiry sits exactly at the horizon).
    """

    value: float
    horizon: float
    near: ExpiryVariance
    next: ExpiryVariance

    @property
    def points(self) -> float:
        """Index in volatility points (``100 * value``)."""
        return 100.0 * self.value


def _strike_deltas(strikes: FloatArray) -> FloatArray:
    """Cboe ``Delta K_i``: half the distance between the neighbours, one-sided at the ends."""
    n = strikes.size
    if n == 1:
        return np.zeros(1)
    dk = np.empty(n)
    dk[1:-1] = 0.5 * (strikes[2:] - strikes[:-2])
    dk[0] = strikes[1] - strikes[0]
    dk[-1] = strikes[-1] - strikes[-2]
    return dk


def _truncate_zero_bids(zero_bid: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Cboe rule along one wing ordered away from ``K_0``: skip zero bids, stop after two in a row."""
    n = zero_bid.size
    if n == 0:
        return zero_bid.copy()
    pair = zero_bid[:-1] & zero_bid[1:]
    stop = int(np.argmax(pair)) if np.any(pair) else n
    keep = ~zero_bid
    keep[stop:] = False
    return keep


def expiry_variance(
    strikes: npt.ArrayLike,
    call_prices: npt.ArrayLike,
    put_prices: npt.ArrayLike,
    forward: float,
    t: float,
    discount_factor: float = 1.0,
    *,
    call_bids: npt.ArrayLike | None = None,
    put_bids: npt.ArrayLike | None = None,
    window_sd: float | None = None,
) -> ExpiryVariance:
    """Model-free implied variance of one expiry from a strip of out-of-the-money options.

    Parameters
    ----------
    strikes : array_like
        Listed strikes (any order; unique).
    call_prices, put_prices : array_like
        Option prices (discounted, in the strike's currency) aligned with ``strikes``; NaN where the
        option is absent.
    forward : float
        Forward of the expiry.
    t : float
        Time to expiry, years.
    discount_factor : float, default 1.0
        ``exp(-r t)``.
    call_bids, put_bids : array_like, optional
        Bid prices. When given, Cboe's strike-inclusion rule is applied: moving away from ``K_0``, options
        with a zero (or missing) bid are skipped and the strip stops after two consecutive zero bids.
    window_sd : float, optional
        Keep only strikes with ``|ln(K/F)| <= window_sd * s`` where ``s = sqrt(2 pi) Q(K_0) / F`` is the
        Brenner-Subrahmanyam estimate of the ATM standard deviation ``sigma sqrt(t)`` from the strip's
        own ``K_0`` price (a deviation from Cboe; ``None`` keeps the whole strip).

    Returns
    -------
    ExpiryVariance
        Annualised variance and the strip's ``K_0`` and size.

    Notes
    -----
    ``sigma**2 = (2 / t) sum_i (Delta K_i / K_i**2) exp(r t) Q(K_i) - (1 / t) (F / K_0 - 1)**2``
    where ``K_0`` is the highest strike at or below ``F``, ``Q(K_i)`` the put for ``K_i < K_0``, the
    call for ``K_i > K_0`` and the average of put and call at ``K_0``; ``Delta K_i`` is half the gap
    between the neighbouring strikes of the strip (one-sided at its ends).

    References
    ----------
    Cboe, "Cboe Volatility Index (VIX) White Paper", 2019 / 2023 editions, "The VIX Index Calculation".
    K. Demeterfi, E. Derman, M. Kamal, J. Zou, "More than you ever wanted to know about volatility
    swaps", Goldman Sachs Quantitative Strategies Research Notes, 1999.
    """
    K = np.asarray(strikes, dtype=np.float64).ravel()
    C = np.asarray(call_prices, dtype=np.float64).ravel()
    P = np.asarray(put_prices, dtype=np.float64).ravel()
    if not (K.shape == C.shape == P.shape):
        raise VarianceIndexError("strikes, call_prices and put_prices must have the same length")
    if not (t > 0 and forward > 0 and discount_factor > 0):
        raise VarianceIndexError("t, forward and discount_factor must be > 0")
    order = np.argsort(K)
    K, C, P = K[order], C[order], P[order]
    below = np.nonzero(forward >= K)[0]
    if below.size == 0:
        raise VarianceIndexError("no strike at or below the forward")
    i0 = int(below[-1])
    k0 = float(K[i0])

    put_side = np.arange(i0, -1, -1)          # K_0 downwards
    call_side = np.arange(i0, K.size)         # K_0 upwards
    put_ok = np.isfinite(P[put_side]) & (P[put_side] > 0)
    call_ok = np.isfinite(C[call_side]) & (C[call_side] > 0)
    if call_bids is not None and put_bids is not None:
        cb = np.asarray(call_bids, dtype=np.float64).ravel()[order]
        pb = np.asarray(put_bids, dtype=np.float64).ravel()[order]
        # the rule starts at the first strike beyond K_0 on each side; K_0 itself needs its quotes only
        put_ok[1:] &= _truncate_zero_bids(~(pb[put_side[1:]] > 0))
        call_ok[1:] &= _truncate_zero_bids(~(cb[call_side[1:]] > 0))
    q = np.full(K.size, np.nan)
    q[put_side[1:][put_ok[1:]]] = P[put_side[1:][put_ok[1:]]]
    q[call_side[1:][call_ok[1:]]] = C[call_side[1:][call_ok[1:]]]
    atm = [x for x, ok in ((P[i0], put_ok[0]), (C[i0], call_ok[0])) if ok]
    if atm:
        q[i0] = float(np.mean(atm))
    used = np.isfinite(q)
    if window_sd is not None and np.isfinite(q[i0]):
        sd = np.sqrt(2.0 * np.pi) * q[i0] / discount_factor / forward
        used &= np.abs(np.log(K / forward)) <= window_sd * sd
    if used.sum() < 2:
        raise VarianceIndexError("fewer than two strikes in the strip")
    Ku, Qu = K[used], q[used]
    dk = _strike_deltas(Ku)
    var = (2.0 / t) * np.sum(dk / (Ku * Ku) * Qu) / discount_factor - (forward / k0 - 1.0) ** 2 / t
    return ExpiryVariance(t=float(t), variance=float(var), k0=k0, forward=float(forward), n_strikes=int(used.sum()))


def interpolate_variance(near: ExpiryVariance, next_: ExpiryVariance, horizon: float) -> float:
    """Constant-maturity annualised variance by linear interpolation of total variance in time.

    Parameters
    ----------
    near, next_ : ExpiryVariance
        Expiries with ``near.t <= horizon <= next_.t`` (extrapolates otherwise).
    horizon : float
        Target maturity in years.

    Returns
    -------
    float
        ``[t1 s1 (t2 - h) / (t2 - t1) + t2 s2 (h - t1) / (t2 - t1)] / h`` (``s1`` when ``t1 = t2``).

    References
    ----------
    Cboe VIX White Paper, step 3 (minutes replaced by ACT/365 years; the ratio is the same).
    """
    t1, t2 = near.t, next_.t
    if t2 == t1:
        return near.variance
    w1 = (t2 - horizon) / (t2 - t1)
    return (t1 * near.variance * w1 + t2 * next_.variance * (1.0 - w1)) / horizon


def _chain_expiry_variance(
    chain: OptionChain, j: int, price: PriceSource, truncate: bool, window_sd: float | None
) -> ExpiryVariance:
    rows = chain.expiry_index == j
    strikes = chain.strike[rows]
    prices = (chain.mark if price == "mark" else chain.mid)[rows]
    bids = chain.bid[rows]
    calls = chain.is_call[rows]
    uniq, inv = np.unique(strikes, return_inverse=True)
    cp = np.full(uniq.size, np.nan)
    pp = np.full(uniq.size, np.nan)
    cb = np.full(uniq.size, np.nan)
    pb = np.full(uniq.size, np.nan)
    cp[inv[calls]] = prices[calls]
    pp[inv[~calls]] = prices[~calls]
    cb[inv[calls]] = bids[calls]
    pb[inv[~calls]] = bids[~calls]
    fwd = float(chain.forward[rows][0])
    return expiry_variance(
        uniq, cp, pp, fwd, float(chain.expiries[j]),
        call_bids=cb if truncate else None, put_bids=pb if truncate else None, window_sd=window_sd,
    )


def variance_index(
    chain: OptionChain,
    *,
    horizon_days: float = 30.0,
    price: PriceSource = "mark",
    truncate_zero_bids: bool | None = None,
    min_days: float = 1.0,
    window_sd: float | None = None,
) -> VarianceIndex:
    """Constant-maturity model-free implied volatility (a DVOL / VIX-style index) of a chain.

    Parameters
    ----------
    chain : OptionChain
        Quotes of one underlying (undiscounted USD prices; discount factor 1).
    horizon_days : float, default 30
        Target maturity in calendar days (ACT/365).
    price : {"mark", "mid"}, default "mark"
        Option price in the strip: the exchange mark or the bid/ask mid.
    truncate_zero_bids : bool, optional
        Apply Cboe's zero-bid strike-exclusion rule. Default: on for ``"mid"``, off for ``"mark"``.
    min_days : float, default 1.0
        Expiries closer than this are not used.
    window_sd : float, optional
        Restrict each strip to ``|ln(K/F)| <= window_sd`` ATM standard deviations (see
        :func:`expiry_variance`). ``None`` (default) is the Cboe strip over every listed strike.

    Returns
    -------
    VarianceIndex
        Index value (decimal volatility) and the two expiries used.

    Raises
    ------
    VarianceIndexError
        When no expiry beyond ``min_days`` has a usable strip.

    Notes
    -----
    Near expiry: the last expiry at or before the horizon (at least ``min_days`` away); next expiry: the
    first after it. With only expiries on one side, the two closest to the horizon are extrapolated
    linearly in total variance (a single expiry is used as is). Per expiry see
    :func:`expiry_variance`; interpolation :func:`interpolate_variance`. The value is
    ``sqrt(max(sigma_h**2, 0))``.

    References
    ----------
    Cboe, "Cboe Volatility Index (VIX) White Paper". Deribit, "DVOL - Deribit Implied Volatility Index"
    (2021): DVOL applies the VIX methodology to Deribit BTC/ETH options at a 30-day horizon.
    """
    horizon = horizon_days / 365.0
    truncate = (price == "mid") if truncate_zero_bids is None else truncate_zero_bids
    candidates = np.nonzero(chain.expiries >= min_days / 365.0)[0]
    if candidates.size == 0:
        raise VarianceIndexError("no expiry beyond min_days")
    ts = chain.expiries[candidates]
    before = candidates[ts <= horizon]
    after = candidates[ts > horizon]
    if before.size and after.size:
        pair = (int(before[-1]), int(after[0]))
    elif after.size:
        pair = (int(after[0]), int(after[1])) if after.size > 1 else (int(after[0]), int(after[0]))
    else:
        pair = (int(before[-2]), int(before[-1])) if before.size > 1 else (int(before[-1]), int(before[-1]))
    near = _chain_expiry_variance(chain, pair[0], price, truncate, window_sd)
    nxt = near if pair[1] == pair[0] else _chain_expiry_variance(chain, pair[1], price, truncate, window_sd)
    var = interpolate_variance(near, nxt, horizon)
    return VarianceIndex(value=float(np.sqrt(max(var, 0.0))), horizon=horizon, near=near, next=nxt)


def daily_close_at(
    times: npt.ArrayLike, candle_open_days: npt.ArrayLike, closes: npt.ArrayLike, *, max_gap_days: float = 1.0
) -> FloatArray:
    """Value of a daily-candle series at arbitrary instants by linear interpolation between closes.

    Parameters
    ----------
    times : array_like of datetime64
        Instants to evaluate (UTC).
    candle_open_days : array_like of datetime64
        Candle labels: the UTC day each candle opened (Deribit's ``get_volatility_index_data`` stamps a
        1-day candle with its open time, and its ``close`` is the value at the next midnight).
    closes : array_like
        Candle closes.
    max_gap_days : float, default 1.0
        Only interpolate between closes at most this many days apart; NaN otherwise (missing candles).

    Returns
    -------
    numpy.ndarray
        Interpolated value at each instant; NaN outside the series or across a gap.

    Notes
    -----
    The close of the candle labelled ``D`` is observed at ``D + 1 day 00:00 UTC``. An instant ``x`` between
    the observations ``o_1 <= x <= o_2`` gets ``c_1 + (c_2 - c_1) (x - o_1) / (o_2 - o_1)``.
    """
    x = np.asarray(times, dtype="datetime64[s]").astype(np.float64) / 86400.0
    obs = (np.asarray(candle_open_days, dtype="datetime64[D]") + np.timedelta64(1, "D")).astype(
        "datetime64[s]").astype(np.float64) / 86400.0
    c = np.asarray(closes, dtype=np.float64)
    o = np.argsort(obs)
    obs, c = obs[o], c[o]
    i = np.searchsorted(obs, x, side="right")
    ok = (i > 0) & (i < obs.size)
    i0 = np.clip(i - 1, 0, obs.size - 1)
    i1 = np.clip(i, 0, obs.size - 1)
    gap = obs[i1] - obs[i0]
    exact = (i > 0) & (obs[i0] == x)
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = np.where(gap > 0, (x - obs[i0]) / gap, 0.0)
    val = c[i0] + lam * (c[i1] - c[i0])
    good = (ok & (gap <= max_gap_days)) | exact
    return np.where(good, val, np.nan)
