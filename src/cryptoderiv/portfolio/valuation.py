r"""Full revaluation of a portfolio on shocked spot, shocked vol surface and rolled-forward time.

A :class:`Book` is a portfolio laid out as arrays on one market snapshot; :func:`revalue` prices every
position under a batch of scenarios at once (NumPy broadcasting over ``(scenario, position)``), with the
Black-76 kernels of :mod:`cryptoderiv.pricing` for options.  Values are in USD:

==========================  ============================================================================
position                    value (USD) under spot ``S``, forward ``F``, vol ``sigma``, time to expiry ``tau``
==========================  ============================================================================
spot                        ``q S``
linear perpetual / future   ``q F`` (``q`` coins)
inverse perpetual / future  ``S N (1/F_0 - 1/F)`` (``N`` USD notional; coin P&L valued at ``S``)
linear option (Bybit)       ``q Black76(F, K, tau, sigma)``
inverse option (Deribit)    ``q Black76(F, K, tau, sigma) / F * S`` (coin premium valued at ``S``)
==========================  ============================================================================

Forwards move with spot at a constant annual basis ``b = ln(F_0/S_0)/tau_0`` (dated contracts, so the basis
rolls down as time passes) or a constant ratio ``F/S`` (perpetuals).  The smile moves sticky-moneyness: a
position's vol is its SVI slice at the new log-moneyness ``ln(K/F)``, anchored to its mark IV, plus the
scenario's parallel shift (floored at 1 vol point).  Perpetuals accrue funding ``-q F apr dt`` (longs pay a
positive rate).  Collateral balances are not positions: coin margin is not revalued.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cryptoderiv.errors import CryptoderivError
from cryptoderiv.pricing import black76

__all__ = ["Book", "PositionQuote", "build_book", "revalue"]

FloatArray = NDArray[np.float64]
KIND_CODES = {"spot": 0, "perpetual": 1, "future": 2, "option": 3}
MIN_VOL = 0.01  # 1 vol point


class MissingMarketData(CryptoderivError):  # noqa: N818 - names the missing thing
    """A position has no market data on the snapshot (the message names it)."""


@dataclass(frozen=True, slots=True)
class PositionQuote:
    """Market state of one position's instrument.

    Parameters
    ----------
    price : float
        Futures/perpetual mark (USD per coin), or the option expiry's forward (USD per coin); spot: ignored.
    t : float
        Years to expiry (ACT/365) at the snapshot; 0 for spot and perpetuals.
    iv : float, optional
        Option mark IV, decimal.
    funding_apr : float, default 0
        Perpetual funding, annualised decimal (rate * 24 * 365 / interval hours).
    svi : tuple of 5 floats, optional
        Raw SVI ``(a, b, rho, m, sigma)`` of the expiry's total variance ``w(k)``, ``k = ln(K/F)``.
    svi_t : float, optional
        Years to expiry the SVI slice was fitted at.
    """

    price: float
    t: float = 0.0
    iv: float | None = None
    funding_apr: float = 0.0
    svi: tuple[float, float, float, float, float] | None = None
    svi_t: float | None = None


@dataclass(frozen=True)
class Book:
    """A portfolio laid out as arrays on one snapshot (build with :func:`build_book`).

    Attributes
    ----------
    ids, bases : tuple of str
        Position labels; underlying coins (columns of the spot-shock matrices).
    base_idx : ndarray of int
        Index into ``bases`` per position.
    spot0 : ndarray
        Spot per base, USD.
    kind, inverse, is_call, q, strike, tau0, basis, ratio, iv0, svi, svi_t, funding_apr, entry_usd, forward0
        Per-position arrays (see the module docstring; ``q`` in coins, or USD notional for inverse futures).
    as_of : pandas.Timestamp
        Snapshot time, UTC.
    """

    ids: tuple[str, ...]
    bases: tuple[str, ...]
    base_idx: NDArray[np.int64]
    spot0: FloatArray
    kind: NDArray[np.int64]
    inverse: NDArray[np.bool_]
    is_call: NDArray[np.bool_]
    q: FloatArray
    strike: FloatArray
    tau0: FloatArray
    basis: FloatArray
    ratio: FloatArray
    iv0: FloatArray
    svi: FloatArray
    svi_t: FloatArray
    funding_apr: FloatArray
    entry_usd: FloatArray
    forward0: FloatArray
    as_of: pd.Timestamp

    def __len__(self) -> int:
        return len(self.ids)

    def spot_of_positions(self) -> FloatArray:
        """Spot (USD) of each position's underlying."""
        return np.asarray(self.spot0[self.base_idx], dtype=np.float64)


def build_book(portfolio: Any, spot: Mapping[str, float], quotes: Mapping[str, PositionQuote],
               as_of: pd.Timestamp) -> Book:
    """Lay a portfolio out on a snapshot.

    Parameters
    ----------
    portfolio : cryptoderiv.portfolio.positions.Portfolio
        The positions.
    spot : mapping of str to float
        Spot per base coin, USD.
    quotes : mapping of str to PositionQuote
        Per position id (spot positions may be absent).
    as_of : pandas.Timestamp
        Snapshot time, UTC.

    Raises
    ------
    MissingMarketData
        No spot for a base, or no quote (or IV) for a derivative position.
    """
    bases = tuple(sorted({p.base for p in portfolio.positions}))
    for b in bases:
        if b not in spot or not np.isfinite(spot[b]) or spot[b] <= 0:
            raise MissingMarketData(f"no spot price for {b} at {as_of}")
    n = len(portfolio.positions)
    arr = {name: np.zeros(n) for name in ("q", "strike", "tau0", "basis", "ratio", "iv0", "svi_t", "funding_apr",
                                          "entry_usd", "forward0")}
    svi = np.full((n, 5), np.nan)
    kind = np.zeros(n, dtype=np.int64)
    base_idx = np.zeros(n, dtype=np.int64)
    inverse = np.zeros(n, dtype=bool)
    is_call = np.zeros(n, dtype=bool)
    for i, p in enumerate(portfolio.positions):
        s0 = float(spot[p.base])
        base_idx[i], kind[i], inverse[i] = bases.index(p.base), KIND_CODES[p.kind], p.is_inverse
        arr["q"][i] = p.quantity
        arr["ratio"][i] = 1.0
        arr["forward0"][i] = s0
        arr["svi_t"][i] = np.nan
        if p.kind != "spot":
            quote = quotes.get(p.position_id)
            if quote is None or not np.isfinite(quote.price) or quote.price <= 0:
                raise MissingMarketData(f"position {p.position_id!r} ({p.exchange} {p.symbol}): no quote at {as_of}")
            f0 = float(quote.price)
            arr["forward0"][i] = f0
            arr["funding_apr"][i] = quote.funding_apr if p.kind == "perpetual" else 0.0
            if p.kind == "perpetual":
                arr["ratio"][i] = f0 / s0
            else:
                tau = max(float(quote.t), 0.0)
                arr["tau0"][i] = tau
                arr["basis"][i] = np.log(f0 / s0) / tau if tau > 0 else 0.0
            if p.kind == "option":
                if quote.iv is None or not np.isfinite(quote.iv) or quote.iv <= 0:
                    raise MissingMarketData(f"position {p.position_id!r} ({p.symbol}): no implied vol at {as_of}")
                arr["iv0"][i] = quote.iv
                arr["strike"][i] = float(p.strike or 0.0)
                is_call[i] = p.option_type == "call"
                if quote.svi is not None and quote.svi_t:
                    svi[i] = quote.svi
                    arr["svi_t"][i] = quote.svi_t
        arr["entry_usd"][i] = p.entry_price_usd(arr["forward0"][i])
    return Book(ids=tuple(p.position_id for p in portfolio.positions), bases=bases, base_idx=base_idx,
                spot0=np.array([float(spot[b]) for b in bases]), kind=kind, inverse=inverse, is_call=is_call,
                svi=svi, as_of=pd.Timestamp(as_of), **arr)


def _svi_vol(svi: FloatArray, svi_t: FloatArray, k: FloatArray) -> FloatArray:
    a, b, rho, m, sig = (svi[..., j] for j in range(5))
    w = a + b * (rho * (k - m) + np.sqrt((k - m) ** 2 + sig**2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.sqrt(np.maximum(w, 0.0) / svi_t), dtype=np.float64)


def revalue(book: Book, spot_mult: Any = 1.0, vol_shift: Any = 0.0, dt_years: Any = 0.0,
            funding_shift_apr: Any = 0.0, include_funding: bool = True) -> FloatArray:
    """USD value of every position under a batch of scenarios (full revaluation).

    Parameters
    ----------
    book : Book
        The portfolio on its snapshot.
    spot_mult : array_like, shape (n, n_bases) or broadcastable
        Spot multipliers ``S/S_0`` per scenario and base (``exp(log return)``).
    vol_shift : array_like, shape (n, n_bases) or broadcastable
        Parallel IV shift per scenario and base, decimal (0.10 = +10 vol points).
    dt_years : array_like, shape (n,) or scalar
        Time rolled forward, ACT/365 years (options decay, futures' basis rolls down, funding accrues).
    funding_shift_apr : array_like, shape (n,) or scalar
        Added annualised funding rate, decimal (perpetuals).
    include_funding : bool, default True
        Whether perpetual funding accrues over ``dt_years``.

    Returns
    -------
    numpy.ndarray, shape (n, n_positions)
        Values in USD (P&L = value - value of the unshocked snapshot).
    """
    nb = len(book.bases)
    mult = np.broadcast_to(np.asarray(spot_mult, dtype=np.float64), np.broadcast_shapes(
        np.shape(spot_mult), (1, nb))).reshape(-1, nb)
    shift = np.broadcast_to(np.asarray(vol_shift, dtype=np.float64), np.broadcast_shapes(
        np.shape(vol_shift), (1, nb))).reshape(-1, nb)
    n = max(mult.shape[0], shift.shape[0], np.size(dt_years), np.size(funding_shift_apr))
    mult = np.broadcast_to(mult, (n, nb))
    shift = np.broadcast_to(shift, (n, nb))
    dt = np.broadcast_to(np.asarray(dt_years, dtype=np.float64).reshape(-1, 1), (n, 1))
    dfund = np.broadcast_to(np.asarray(funding_shift_apr, dtype=np.float64).reshape(-1, 1), (n, 1))

    s = book.spot0[book.base_idx][None, :] * mult[:, book.base_idx]          # (n, p)
    tau = np.maximum(book.tau0[None, :] - dt, 0.0)
    dated = (book.kind == 2) | (book.kind == 3)
    fwd = np.where(dated[None, :], s * np.exp(book.basis[None, :] * tau), s * book.ratio[None, :])
    value = np.zeros_like(s)

    spot_pos = book.kind == 0
    value[:, spot_pos] = book.q[spot_pos] * s[:, spot_pos]
    fut = (book.kind == 1) | (book.kind == 2)
    lin_fut = fut & ~book.inverse
    inv_fut = fut & book.inverse
    value[:, lin_fut] = book.q[lin_fut] * fwd[:, lin_fut]
    value[:, inv_fut] = s[:, inv_fut] * book.q[inv_fut] * (1.0 / book.forward0[inv_fut] - 1.0 / fwd[:, inv_fut])
    if include_funding:
        perp = book.kind == 1
        exposure = np.where(book.inverse[perp], book.q[perp], book.q[perp] * fwd[:, perp])
        value[:, perp] -= exposure * (book.funding_apr[perp] + dfund) * dt

    opt = book.kind == 3
    if opt.any():
        f = fwd[:, opt]
        k = book.strike[opt]
        vol = np.broadcast_to(book.iv0[opt], f.shape).copy()
        has_svi = np.isfinite(book.svi_t[opt])
        if has_svi.any():
            svi = book.svi[opt][has_svi]
            st = book.svi_t[opt][has_svi]
            k_now = np.log(k[has_svi] / book.forward0[opt][has_svi])
            k_new = np.log(k[has_svi][None, :] / f[:, has_svi])
            anchor = book.iv0[opt][has_svi] - _svi_vol(svi, st, k_now)
            smile = _svi_vol(svi[None, :, :], st[None, :], k_new) + anchor[None, :]
            vol[:, has_svi] = np.where(np.isfinite(smile), smile, vol[:, has_svi])
        vol = np.maximum(vol + shift[:, book.base_idx[opt]], MIN_VOL)
        kind = np.where(book.is_call[opt], 1.0, -1.0)
        usd = np.asarray(black76.price(np.broadcast_to(kind, f.shape), f, k, tau[:, opt], vol), dtype=np.float64)
        per_option = np.where(book.inverse[opt][None, :], usd / f * s[:, opt], usd)
        value[:, opt] = book.q[opt] * per_option
    return value
