"""Option positioning: put/call ratios, open interest by strike, max pain, dealer gamma exposure.

Dealer-positioning assumption (gamma exposure): by default dealers are taken to be **long the calls and
short the puts** that make up open interest (customers sell calls for yield and buy puts for
protection), the convention of the public "GEX" indicators. Exchange data do not reveal who holds open
interest, so GEX is a model of positioning, not a measurement; ``call_sign`` / ``put_sign`` change the
assumption (``-1, -1``: dealers short everything customers bought).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from cryptoderiv.pricing.black76 import greeks as black76_greeks
from cryptoderiv.surface.chain import OptionChain

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PutCallRatio:
    """Put/call ratios of one chain (``NaN`` when the call side is zero).

    Parameters
    ----------
    volume : float
        ``sum(put volume) / sum(call volume)``.
    open_interest : float
        ``sum(put OI) / sum(call OI)``.
    """

    volume: float
    open_interest: float


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


def put_call_ratio(chain: OptionChain, expiry: float | None = None) -> PutCallRatio:
    """Put/call volume and open-interest ratios, in contracts.

    Parameters
    ----------
    chain : OptionChain
        Quotes with volume and open interest.
    expiry : float, optional
        Restrict to the expiry with this ``t`` (years); default all expiries.

    Returns
    -------
    PutCallRatio
        Ratios of contract counts (Deribit contract = 1 coin, so also coin notional).
    """
    sel = np.ones(len(chain), dtype=bool) if expiry is None else chain.t == expiry
    put = sel & ~chain.is_call
    call = sel & chain.is_call
    return PutCallRatio(
        volume=_ratio(float(chain.volume[put].sum()), float(chain.volume[call].sum())),
        open_interest=_ratio(float(chain.open_interest[put].sum()), float(chain.open_interest[call].sum())),
    )


def open_interest_by_strike(chain: OptionChain, expiry: float | None = None) -> pd.DataFrame:
    """Open interest per strike, calls and puts side by side.

    Parameters
    ----------
    chain : OptionChain
        Quotes with open interest.
    expiry : float, optional
        Restrict to one expiry (``t`` in years); default aggregates all expiries.

    Returns
    -------
    pandas.DataFrame
        Index ``strike`` (ascending), columns ``call_oi, put_oi, total_oi`` (contracts).
    """
    sel = np.ones(len(chain), dtype=bool) if expiry is None else chain.t == expiry
    strikes, inv = np.unique(chain.strike[sel], return_inverse=True)
    calls = chain.is_call[sel]
    oi = chain.open_interest[sel]
    call_oi = np.bincount(inv, weights=np.where(calls, oi, 0.0), minlength=strikes.size)
    put_oi = np.bincount(inv, weights=np.where(calls, 0.0, oi), minlength=strikes.size)
    return pd.DataFrame({"call_oi": call_oi, "put_oi": put_oi, "total_oi": call_oi + put_oi},
                        index=pd.Index(strikes, name="strike"))


def holder_payout(
    settlement: npt.ArrayLike, strike: npt.ArrayLike, is_call: npt.ArrayLike, open_interest: npt.ArrayLike
) -> FloatArray:
    """Total intrinsic value paid to option holders at each candidate settlement price.

    Parameters
    ----------
    settlement : array_like
        Candidate settlement prices ``S``.
    strike, is_call, open_interest : array_like
        The options (one row each).

    Returns
    -------
    numpy.ndarray
        ``P(S) = sum_i OI_i * max(S - K_i, 0)`` over calls ``+ sum_i OI_i * max(K_i - S, 0)`` over puts, in
        USD per contract unit, shape of ``settlement``.
    """
    s = np.asarray(settlement, dtype=np.float64)
    K = np.asarray(strike, dtype=np.float64).ravel()
    c = np.asarray(is_call, dtype=bool).ravel()
    oi = np.asarray(open_interest, dtype=np.float64).ravel()
    diff = s.reshape(-1, 1) - K[None, :]
    intrinsic = np.where(c[None, :], np.maximum(diff, 0.0), np.maximum(-diff, 0.0))
    return (intrinsic @ oi).reshape(s.shape)


def max_pain(
    strike: npt.ArrayLike, is_call: npt.ArrayLike, open_interest: npt.ArrayLike,
    candidates: npt.ArrayLike | None = None,
) -> float:
    """Max-pain price: the settlement that minimises the intrinsic value paid to option holders.

    Parameters
    ----------
    strike, is_call, open_interest : array_like
        The options of one expiry.
    candidates : array_like, optional
        Settlement prices to test (default: the listed strikes; the payout is piecewise linear in ``S``
        with kinks at strikes, so its minimum is attained at a strike).

    Returns
    -------
    float
        ``argmin_S P(S)`` (see :func:`holder_payout`); the lowest such strike on ties.

    Notes
    -----
    A folk indicator: it assumes option writers as a group could steer settlement; it is reported for
    completeness, not as a forecast.
    """
    K = np.asarray(strike, dtype=np.float64).ravel()
    cand = np.unique(K) if candidates is None else np.asarray(candidates, dtype=np.float64).ravel()
    pay = holder_payout(cand, K, is_call, open_interest)
    return float(cand[int(np.argmin(pay))])


@dataclass(frozen=True, eq=False)
class GammaProfile:
    """Dealer gamma exposure as a function of the spot price.

    Parameters
    ----------
    spot : float
        Current spot.
    spot_grid : numpy.ndarray
        Spot levels evaluated (increasing).
    gex : numpy.ndarray
        Dealer gamma exposure at each level, USD of delta change per 1 % spot move.
    gex_at_spot : float
        Exposure at the current spot.
    flip : float
        Gamma-flip level: the zero crossing of ``gex`` closest to ``spot`` (linear interpolation between
        grid points); NaN when the profile does not change sign on the grid.
    """

    spot: float
    spot_grid: FloatArray
    gex: FloatArray
    gex_at_spot: float
    flip: float


def dealer_gamma_exposure(
    chain: OptionChain,
    spot_grid: npt.ArrayLike | None = None,
    *,
    call_sign: float = 1.0,
    put_sign: float = -1.0,
    iv: npt.ArrayLike | None = None,
) -> GammaProfile:
    """Dealer gamma exposure (GEX) profile and the gamma-flip level.

    Parameters
    ----------
    chain : OptionChain
        Quotes with open interest and an implied volatility per row.
    spot_grid : array_like, optional
        Spot levels (default 201 points from 0.7 to 1.3 times the chain's spot).
    call_sign, put_sign : float, default +1, -1
        Dealer position per contract of open interest (see the module note on the assumption).
    iv : array_like, optional
        Volatility per row (default the mark IV); rows without a finite IV or OI are skipped.

    Returns
    -------
    GammaProfile
        GEX on the grid, at spot, and the flip level.

    Notes
    -----
    ``GEX(S) = sum_i sign_i OI_i Gamma_i(F_i(S)) F_i(S)**2 / 100`` with the Black-76 gamma ``Gamma_i``
    (``d2V/dF2``, from :func:`cryptoderiv.pricing.black76.greeks`), the forward moved with the spot,
    ``F_i(S) = F_i S / S_0``, and vols held per strike (sticky strike). ``Gamma F**2 / 100`` is the
    change of the option's USD delta exposure for a 1 % move. Contract size 1 coin (Deribit).

    References
    ----------
    SqueezeMetrics, "Gamma Exposure (GEX)", white paper, 2017 (definition and dealer-sign convention).
    """
    vol = chain.mark_iv if iv is None else np.asarray(iv, dtype=np.float64).ravel()
    use = np.isfinite(vol) & (vol > 0) & (chain.open_interest > 0)
    s0 = chain.spot
    grid = np.linspace(0.7 * s0, 1.3 * s0, 201) if spot_grid is None else np.sort(
        np.asarray(spot_grid, dtype=np.float64).ravel())
    F = chain.forward[use][None, :] * (grid[:, None] / s0)                       # (G, n)
    K = np.broadcast_to(chain.strike[use][None, :], F.shape)
    t = np.broadcast_to(chain.t[use][None, :], F.shape)
    v = np.broadcast_to(vol[use][None, :], F.shape)
    kind = np.broadcast_to(np.where(chain.is_call[use], "call", "put")[None, :], F.shape)
    gamma = np.asarray(black76_greeks(kind, F, K, t, v)["gamma"], dtype=np.float64)
    sign = np.where(chain.is_call[use], call_sign, put_sign) * chain.open_interest[use]
    gex = np.sum(gamma * F * F * 0.01 * sign[None, :], axis=1)
    at_spot = float(np.interp(s0, grid, gex))
    flip = _nearest_zero_crossing(grid, gex, s0)
    return GammaProfile(spot=s0, spot_grid=grid, gex=gex, gex_at_spot=at_spot, flip=flip)


def _nearest_zero_crossing(x: FloatArray, y: FloatArray, x0: float) -> float:
    """Linear-interpolated root of ``y(x)`` nearest to ``x0``; NaN without a sign change."""
    s = np.sign(y)
    idx = np.nonzero(s[:-1] * s[1:] < 0)[0]
    exact = x[y == 0]
    roots = x[idx] - y[idx] * (x[idx + 1] - x[idx]) / (y[idx + 1] - y[idx])
    roots = np.concatenate([roots, exact])
    if roots.size == 0:
        return float("nan")
    return float(roots[np.argmin(np.abs(roots - x0))])
