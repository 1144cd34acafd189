"""Chain snapshots as the calibration sees them, how quote times group into snapshots, and quote selection.

A *snapshot* is one fetch of a venue's option chain for one underlying. Its quotes carry the exchange's
time of each ticker, which on a live venue spread over the seconds the fetch takes, so snapshots are found
by gaps: consecutive quote times at most ``gap`` apart belong to the same snapshot, and the snapshot is
identified by its first quote time (UTC). Within a snapshot every option is priced at that one instant:
time to expiry is recomputed from it (ACT/365) and each expiry gets one forward (the median of its
quotes' forwards), so options of one expiry share one smile.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from cryptoderiv.calibration.config import CalibrationConfig
from cryptoderiv.errors import ContractViolation
from cryptoderiv.surface.chain import OptionChain

SECONDS_PER_YEAR: Final = 365.0 * 86_400.0
QUOTE_COLUMNS: Final = (
    "symbol", "expiry", "strike", "option_type", "ts", "premium_currency", "bid_usd", "ask_usd", "mark_usd",
    "underlying_price", "index_price", "open_interest",
)


def group_snapshots(ts: npt.ArrayLike, gap_seconds: float) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Group quote times into snapshots.

    Parameters
    ----------
    ts : array_like of datetime
        Quote times (any order, duplicates allowed), timezone-aware UTC.
    gap_seconds : float
        Largest gap, in seconds, between consecutive quote times of one snapshot.

    Returns
    -------
    list of (pandas.Timestamp, pandas.Timestamp)
        ``(first, last)`` quote time of each snapshot, in time order.
    """
    times = pd.DatetimeIndex(pd.to_datetime(pd.Series(ts), utc=True)).unique().sort_values()
    if times.empty:
        return []
    ns = times.as_unit("ns").asi8
    breaks = np.nonzero(np.diff(ns) > gap_seconds * 1e9)[0]
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [ns.size - 1]))
    return [(times[s], times[e]) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]


@dataclass(frozen=True, eq=False)
class ChainSnapshot:
    """The option quotes of one venue and underlying at one snapshot.

    Parameters
    ----------
    exchange, underlying : str
        Venue (``deribit``) and base coin (``BTC``).
    snapshot_ts : pandas.Timestamp
        First quote time of the snapshot, UTC; the pricing instant.
    quotes : pandas.DataFrame
        One row per option (the latest quote of each symbol in the snapshot), columns :data:`QUOTE_COLUMNS`
        as in ``option_quotes`` joined to ``instruments``: premiums in USD per option on one coin, forward
        (``underlying_price``) and index in USD, open interest in contracts.
    """

    exchange: str
    underlying: str
    snapshot_ts: pd.Timestamp
    quotes: pd.DataFrame

    def __post_init__(self) -> None:
        missing = [c for c in QUOTE_COLUMNS if c not in self.quotes.columns]
        if missing:
            raise ContractViolation(f"snapshot {self.label}: quotes lack columns {missing}")
        if self.quotes.empty:
            raise ContractViolation(f"snapshot {self.label}: no quotes")
        if self.snapshot_ts.tzinfo is None:
            raise ContractViolation(f"snapshot {self.label}: snapshot_ts must be timezone-aware UTC")
        ordered = self.quotes.sort_values(["expiry", "strike", "option_type"], ignore_index=True)
        object.__setattr__(self, "quotes", ordered)

    @property
    def label(self) -> str:
        """``exchange:underlying@ISO time`` for messages."""
        return f"{self.exchange}:{self.underlying}@{self.snapshot_ts.isoformat()}"

    @property
    def premium_currency(self) -> str:
        """Currency the venue quotes premiums in (the base coin for inverse options)."""
        return str(self.quotes["premium_currency"].iloc[0])

    @property
    def is_inverse(self) -> bool:
        """Whether premiums are quoted in the underlying coin (Deribit)."""
        return self.premium_currency == self.underlying

    def time_to_expiry(self) -> npt.NDArray[np.float64]:
        """ACT/365 years from :attr:`snapshot_ts` to each option's expiry."""
        delta = pd.to_datetime(self.quotes["expiry"], utc=True) - self.snapshot_ts
        return np.asarray(delta.dt.total_seconds().to_numpy(np.float64) / SECONDS_PER_YEAR, dtype=np.float64)

    def expiry_forward(self) -> npt.NDArray[np.float64]:
        """Per row, the median forward of its expiry (USD)."""
        fwd = self.quotes.groupby("expiry")["underlying_price"].transform("median")
        return np.asarray(fwd.to_numpy(np.float64), dtype=np.float64)

    def chain(self) -> OptionChain:
        """The snapshot as an :class:`~cryptoderiv.surface.chain.OptionChain`.

        Prices in USD per option on one coin, undiscounted (zero rate, the Deribit convention); time to
        expiry from :meth:`time_to_expiry` (expired rows get a tiny positive time and are never selected);
        one forward per expiry (:meth:`expiry_forward`).
        """
        q = self.quotes
        t = self.time_to_expiry()
        keep_t = np.where(t > 0, t, np.nan)
        return OptionChain(
            t=np.nan_to_num(keep_t, nan=1e-9), strike=q["strike"].to_numpy(np.float64),
            forward=self.expiry_forward(), is_call=(q["option_type"] == "call").to_numpy(np.bool_),
            bid=q["bid_usd"].to_numpy(np.float64, na_value=np.nan, copy=True),
            ask=q["ask_usd"].to_numpy(np.float64, na_value=np.nan, copy=True),
            mark=q["mark_usd"].to_numpy(np.float64, na_value=np.nan, copy=True),
            mark_iv=np.full(len(q), np.nan),
            open_interest=q["open_interest"].to_numpy(np.float64, na_value=0.0),
            volume=np.zeros(len(q)),
            spot=float(np.median(q["index_price"].to_numpy(np.float64))),
        )

    def fingerprint(self) -> str:
        """sha256 of the quotes (order-independent): the same inputs give the same digest."""
        cols = ["symbol", "ts", "bid_usd", "ask_usd", "mark_usd", "underlying_price", "open_interest"]
        frame = self.quotes.loc[:, cols].sort_values("symbol", ignore_index=True)
        text = frame.to_csv(index=False, float_format="%.12g", date_format="%Y-%m-%dT%H:%M:%S.%fZ")
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class QuoteSelection:
    """Which quotes of a snapshot are fitted, and how many each rule removed.

    Attributes
    ----------
    mask : numpy.ndarray
        Row mask over ``snapshot.quotes`` of the liquid quotes kept.
    n_total : int
        Quotes in the snapshot.
    n_illiquid : int
        Removed by the per-quote liquidity rules.
    n_thin_expiry : int
        Removed because their expiry had fewer than ``min_quotes_per_expiry`` liquid quotes.
    """

    mask: npt.NDArray[np.bool_]
    n_total: int
    n_illiquid: int
    n_thin_expiry: int

    @property
    def n_selected(self) -> int:
        """Quotes kept."""
        return int(np.count_nonzero(self.mask))


def select_quotes(snapshot: ChainSnapshot, config: CalibrationConfig) -> QuoteSelection:
    """Apply the written selection rules of :class:`~cryptoderiv.calibration.config.CalibrationConfig`.

    Rules, in order: the per-quote :class:`~cryptoderiv.surface.chain.LiquidityFilter` (two-sided quote,
    time to expiry, relative spread, open interest, moneyness, out-of-the-money); with
    ``price_source="mark"`` also a positive mark; then expiries with fewer than ``min_quotes_per_expiry``
    survivors are dropped whole.
    """
    chain = snapshot.chain()
    liquid = config.liquidity.mask(chain) & (snapshot.time_to_expiry() > 0)
    if config.price_source == "mark":
        liquid &= np.isfinite(chain.mark)
    counts = np.bincount(chain.expiry_index[liquid], minlength=chain.expiries.size)
    thick = counts[chain.expiry_index] >= config.min_quotes_per_expiry
    keep = liquid & thick
    return QuoteSelection(
        mask=np.asarray(keep, dtype=np.bool_), n_total=len(chain),
        n_illiquid=int(np.count_nonzero(~liquid)), n_thin_expiry=int(np.count_nonzero(liquid & ~thick)),
    )
