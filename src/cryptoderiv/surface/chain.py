"""An option chain as columnar float64 arrays, the liquidity filter, and the Deribit snapshot adapter.

All prices in a chain are in the quote currency (USD) per unit of underlying and undiscounted
(forward premium): Deribit's inverse options quote in coin, and ``price_coin * F`` is the Black-76
forward price in USD (Deribit marks reproduce ``black76(F, K, t, mark_iv) / F``; see
``../shared/data/README.md``). With crypto forwards read from futures (or Deribit's synthetic
forwards) the discount factor is taken as 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from cryptoderiv.errors import CryptoderivError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]

DERIBIT_SNAPSHOT_COLUMNS: Final = (
    "option_type", "strike", "time_to_maturity", "underlying", "bid_price", "ask_price",
    "mark_price", "implied_volatility", "open_interest", "volume", "currency", "expiry_datetime",
)


class ChainError(CryptoderivError):
    """An option chain with inconsistent or invalid columns."""


def _f64(values: npt.ArrayLike) -> FloatArray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.float64).ravel())


@dataclass(frozen=True, eq=False)
class OptionChain:
    """Quotes of one underlying at one observation time.

    Parameters
    ----------
    t : numpy.ndarray
        Time to expiry, ACT/365 years, > 0.
    strike : numpy.ndarray
        Strike in USD, > 0.
    forward : numpy.ndarray
        Forward of the row's expiry in USD, > 0 (equal within an expiry).
    is_call : numpy.ndarray
        ``True`` for calls, ``False`` for puts.
    bid, ask, mark : numpy.ndarray
        Undiscounted option prices in USD; NaN where absent (a bid of 0 is stored as NaN).
    mark_iv : numpy.ndarray
        Exchange mark implied volatility, decimal; NaN where absent.
    open_interest, volume : numpy.ndarray
        In contracts of one unit of underlying (Deribit BTC and ETH options: 1 coin).
    spot : float
        Index (spot) price in USD at the observation time.

    Notes
    -----
    Rows of one expiry share ``t`` exactly; :attr:`expiry_index` groups them.
    """

    t: FloatArray
    strike: FloatArray
    forward: FloatArray
    is_call: BoolArray
    bid: FloatArray
    ask: FloatArray
    mark: FloatArray
    mark_iv: FloatArray
    open_interest: FloatArray
    volume: FloatArray
    spot: float
    expiries: FloatArray = field(init=False)
    expiry_index: IntArray = field(init=False)

    def __post_init__(self) -> None:
        arrays = {name: _f64(getattr(self, name)) for name in (
            "t", "strike", "forward", "bid", "ask", "mark", "mark_iv", "open_interest", "volume")}
        is_call = np.asarray(self.is_call, dtype=np.bool_).ravel()
        n = is_call.size
        for name, arr in arrays.items():
            if arr.size != n:
                raise ChainError(f"column {name} has {arr.size} rows, expected {n}")
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "is_call", is_call)
        if n == 0:
            raise ChainError("empty option chain")
        if not (np.all(arrays["t"] > 0) and np.all(arrays["strike"] > 0) and np.all(arrays["forward"] > 0)):
            raise ChainError("t, strike and forward must be finite and > 0 on every row")
        if not (np.isfinite(self.spot) and self.spot > 0):
            raise ChainError(f"spot must be > 0, got {self.spot}")
        for name in ("bid", "ask", "mark"):
            arr = arrays[name]
            arr[~(arr > 0)] = np.nan  # zero / negative / missing prices -> NaN
        expiries, index = np.unique(arrays["t"], return_inverse=True)
        object.__setattr__(self, "expiries", expiries)
        object.__setattr__(self, "expiry_index", index.astype(np.intp))

    def __len__(self) -> int:
        return int(self.is_call.size)

    @property
    def log_moneyness(self) -> FloatArray:
        """``k = ln(K / F)`` per row."""
        return np.log(self.strike / self.forward)

    @property
    def mid(self) -> FloatArray:
        """``(bid + ask) / 2``; NaN where either side is missing."""
        return 0.5 * (self.bid + self.ask)

    @property
    def is_otm(self) -> BoolArray:
        """Out-of-the-money-forward rows: calls with ``K >= F``, puts with ``K < F``."""
        return np.where(self.is_call, self.strike >= self.forward, self.strike < self.forward)

    def expiry_forwards(self) -> FloatArray:
        """Forward per expiry, aligned with :attr:`expiries` (first row of each expiry)."""
        out = np.empty(self.expiries.size)
        out[self.expiry_index[::-1]] = self.forward[::-1]
        return out

    def subset(self, mask: npt.ArrayLike) -> OptionChain:
        """The chain restricted to the rows where ``mask`` is true."""
        sel = np.asarray(mask, dtype=np.bool_)
        return OptionChain(
            t=self.t[sel], strike=self.strike[sel], forward=self.forward[sel], is_call=self.is_call[sel],
            bid=self.bid[sel], ask=self.ask[sel], mark=self.mark[sel], mark_iv=self.mark_iv[sel],
            open_interest=self.open_interest[sel], volume=self.volume[sel], spot=self.spot,
        )

    @classmethod
    def from_deribit_snapshot(cls, frame: pd.DataFrame, currency: str) -> OptionChain:
        """Build the chain of one currency from a Deribit option-chain snapshot table.

        Parameters
        ----------
        frame : pandas.DataFrame
            Columns as in ``deribit_options_snapshot_*.csv``: prices in coin, ``underlying`` the
            per-expiry forward, ``implied_volatility`` decimal, ``time_to_maturity`` in years.
        currency : str
            ``"BTC"`` or ``"ETH"``.

        Returns
        -------
        OptionChain
            Prices converted to USD as ``price_coin * underlying``; rows with ``t <= 0`` dropped.
        """
        missing = [c for c in DERIBIT_SNAPSHOT_COLUMNS if c not in frame.columns]
        if missing:
            raise ChainError(f"snapshot lacks columns {missing}")
        df = frame[(frame["currency"] == currency) & (frame["time_to_maturity"] > 0)]
        if df.empty:
            raise ChainError(f"no {currency} options with t > 0 in the snapshot")
        fwd = df["underlying"].to_numpy(np.float64)
        spot = float(np.nanmedian(df["index_price"].to_numpy(np.float64))) if "index_price" in df else float(
            np.median(fwd))
        return cls(
            t=df["time_to_maturity"].to_numpy(np.float64),
            strike=df["strike"].to_numpy(np.float64),
            forward=fwd,
            is_call=(df["option_type"].str.lower().str.startswith("c")).to_numpy(np.bool_),
            bid=df["bid_price"].to_numpy(np.float64) * fwd,
            ask=df["ask_price"].to_numpy(np.float64) * fwd,
            mark=df["mark_price"].to_numpy(np.float64) * fwd,
            mark_iv=df["implied_volatility"].to_numpy(np.float64),
            open_interest=df["open_interest"].fillna(0.0).to_numpy(np.float64),
            volume=df["volume"].fillna(0.0).to_numpy(np.float64),
            spot=spot,
        )


@dataclass(frozen=True, slots=True)
class LiquidityFilter:
    """Which quotes count as liquid (used for fitting and for fit-quality statistics).

    Parameters
    ----------
    min_t : float, default 1/365
        Minimum time to expiry in years (drops the last day, where quotes are stale and IV explodes).
    max_relative_spread : float, default 0.5
        Maximum ``(ask - bid) / mid``.
    min_open_interest : float, default 1.0
        Minimum open interest in contracts.
    moneyness : tuple of float, default (0.6, 1.4)
        Allowed range of ``K / F``.
    otm_only : bool, default True
        Keep only out-of-the-money-forward options (their IV carries the information; ITM quotes are
        redundant by parity and have wide IV spreads).

    Notes
    -----
    Both bid and ask must be present and positive. Apart from ``otm_only`` these are the filters of
    the published calibration on the same snapshots (REFERENCE_RESULTS.md, ``filter_liquid_options``).
    """

    min_t: float = 1.0 / 365.0
    max_relative_spread: float = 0.5
    min_open_interest: float = 1.0
    moneyness: tuple[float, float] = (0.6, 1.4)
    otm_only: bool = True

    def __post_init__(self) -> None:
        lo, hi = self.moneyness
        if not (self.min_t >= 0 and self.max_relative_spread > 0 and self.min_open_interest >= 0 and 0 < lo < hi):
            raise ChainError(f"invalid liquidity filter {self!r}")

    def mask(self, chain: OptionChain) -> BoolArray:
        """Boolean row mask of the liquid quotes of ``chain``."""
        mid = chain.mid
        with np.errstate(invalid="ignore", divide="ignore"):
            rel_spread = (chain.ask - chain.bid) / mid
            mny = chain.strike / chain.forward
        ok = (
            np.isfinite(chain.bid) & np.isfinite(chain.ask) & (chain.ask >= chain.bid)
            & (chain.t >= self.min_t)
            & (rel_spread <= self.max_relative_spread)
            & (chain.open_interest >= self.min_open_interest)
            & (mny >= self.moneyness[0]) & (mny <= self.moneyness[1])
        )
        if self.otm_only:
            ok &= chain.is_otm
        return np.asarray(ok, dtype=np.bool_)
