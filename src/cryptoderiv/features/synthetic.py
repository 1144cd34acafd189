"""Synthetic option chains with a known smile, for the feature tests and benchmarks.

The smile is ``sigma(k, t) = atm + skew k + curvature k^2`` in log forward moneyness ``k = ln(K/F)``;
the forward carries ``F = S exp(carry t)``; premiums are Black-76 prices at that vol, quoted in coin for
inverse options (``USD / F``), with a relative half-spread around the mark.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cryptoderiv.pricing import black76

CHAIN_START = pd.Timestamp("2026-11-02T00:00:00Z")
MARKET_START = pd.Timestamp("2026-11-01T00:00:00Z")


@dataclass(frozen=True)
class SyntheticChainSpec:
    """Shape of a generated chain (all fields have defaults)."""

    start: pd.Timestamp = CHAIN_START
    snapshots: int = 2
    snapshot_every_hours: float = 1.0
    expiry_days: tuple[float, ...] = (7.0, 30.0, 60.0, 120.0)
    strikes_per_expiry: int = 15
    spot: float = 60_000.0
    carry: float = 0.05
    atm_vol: float = 0.55
    skew: float = -0.10
    curvature: float = 0.35
    half_spread: float = 0.02
    exchange: str = "deribit"
    base: str = "BTC"
    inverse: bool = True


def smile_vol(spec: SyntheticChainSpec, k: np.ndarray) -> np.ndarray:
    """The generating smile at log-moneyness ``k``."""
    return spec.atm_vol + spec.skew * k + spec.curvature * k**2


def synthetic_chain(spec: SyntheticChainSpec | None = None, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Instruments and option quotes of a generated chain.

    Parameters
    ----------
    spec : SyntheticChainSpec, optional
        Chain shape; defaults as in :class:`SyntheticChainSpec`.
    seed : int, default 0
        Seed of the small random moves of spot between snapshots.

    Returns
    -------
    (instruments, quotes) : tuple of pandas.DataFrame
        ``instruments`` with the columns of the ``instruments`` table (``instrument_id`` from 1);
        ``quotes`` with the columns of ``option_quotes``.
    """
    spec = spec or SyntheticChainSpec()
    rng = np.random.default_rng(seed)
    expiry_base = spec.start.normalize() + pd.Timedelta(hours=8)
    rows = []
    strikes_k = np.linspace(-0.5, 0.5, spec.strikes_per_expiry)
    for days in spec.expiry_days:
        expiry = expiry_base + pd.Timedelta(days=days)
        t0 = days / 365.0
        f0 = spec.spot * np.exp(spec.carry * t0)
        width = np.sqrt(t0 / (30 / 365))
        for kk in strikes_k:
            strike = float(np.round(f0 * np.exp(kk * width), -2))
            for option_type in ("call", "put"):
                code = expiry.strftime("%y%m%d")
                rows.append({"exchange": spec.exchange, "symbol": f"{spec.base}/USD:{spec.base}-{code}-{int(strike)}-"
                             f"{option_type[0].upper()}", "kind": "option", "base": spec.base, "quote": "USD",
                             "settle": spec.base if spec.inverse else "USDC", "is_inverse": spec.inverse,
                             "contract_size": 1.0, "expiry": expiry, "strike": strike, "option_type": option_type})
    instruments = pd.DataFrame(rows).drop_duplicates("symbol").reset_index(drop=True)
    instruments.insert(0, "instrument_id", np.arange(1, len(instruments) + 1, dtype=np.int32))

    quotes = []
    spot = spec.spot
    for i in range(spec.snapshots):
        ts = spec.start + pd.Timedelta(hours=i * spec.snapshot_every_hours)
        spot = spot * float(np.exp(0.01 * rng.standard_normal()))
        t = ((instruments["expiry"] - ts).dt.total_seconds() / (365.0 * 86400.0)).to_numpy()
        f = spot * np.exp(spec.carry * t)
        k_arr = instruments["strike"].to_numpy() / f
        vol = smile_vol(spec, np.log(k_arr))
        usd = np.asarray(black76.price(instruments["option_type"].to_numpy(), f, instruments["strike"].to_numpy(),
                                       t, vol), dtype=np.float64)
        scale = 1.0 / f if spec.inverse else np.ones_like(f)
        mark = usd * scale
        bid = mark * (1.0 - spec.half_spread)
        ask = mark * (1.0 + spec.half_spread)
        quotes.append(pd.DataFrame({
            "instrument_id": instruments["instrument_id"].to_numpy(), "ts": ts,
            "premium_currency": spec.base if spec.inverse else "USD",
            "bid": bid, "ask": ask, "mark": mark, "bid_usd": bid / scale, "ask_usd": ask / scale, "mark_usd": usd,
            "bid_iv": np.nan, "ask_iv": np.nan, "mark_iv": vol, "underlying_price": f, "index_price": spot,
            "time_to_expiry": t, "open_interest": 100.0, "volume": 10.0,
        }))
    return instruments, pd.concat(quotes, ignore_index=True)


def greeks_input(instruments: pd.DataFrame, quotes: pd.DataFrame) -> pd.DataFrame:
    """Quotes joined with their contract terms: the input of
    :func:`cryptoderiv.features.option_greeks.compute_option_greeks`."""
    terms = instruments[["instrument_id", "option_type", "strike", "is_inverse", "expiry", "exchange", "base"]]
    return quotes.merge(terms, on="instrument_id", how="inner")


def synthetic_market_rows(
    bars: int = 240,
    start: pd.Timestamp = MARKET_START,
    venues: tuple[str, ...] = ("binance", "bybit", "deribit"),
    seed: int = 0,
) -> pd.DataFrame:
    """Long market rows (hourly candles, 8-hourly funding, hourly open interest and futures quotes) of one
    BTC perpetual per venue, in the layout of :data:`cryptoderiv.features.market_features.LONG_COLUMNS`.

    Parameters
    ----------
    bars : int, default 240
        Number of hourly bars.
    start : pandas.Timestamp
        First bar (UTC).
    venues : tuple of str
        One perpetual per venue; ``instrument_id`` 1, 2, ...
    seed : int, default 0
        Random seed (common path plus small venue-specific noise).

    Returns
    -------
    pandas.DataFrame
        The long frame, timestamps timezone-aware UTC.
    """
    rng = np.random.default_rng(seed)
    ts = pd.date_range(start, periods=bars, freq="1h")
    common = 60_000.0 * np.exp(np.cumsum(0.006 * rng.standard_normal(bars)))
    frames = []
    for i, venue in enumerate(venues, start=1):
        close = common * np.exp(0.0004 * rng.standard_normal(bars))
        open_ = np.concatenate([[close[0]], close[:-1]])
        high = np.maximum(open_, close) * np.exp(np.abs(0.003 * rng.standard_normal(bars)))
        low = np.minimum(open_, close) * np.exp(-np.abs(0.003 * rng.standard_normal(bars)))
        meta = {"instrument_id": i, "exchange": venue, "base": "BTC", "kind": "perpetual", "expiry": pd.NaT}
        frames.append(pd.DataFrame({"source": "ohlcv", **meta, "ts": ts, "open": open_, "high": high, "low": low,
                                    "close": close, "volume": 100.0}))
        funding_ts = ts[ts.hour % 8 == 0]
        frames.append(pd.DataFrame({"source": "funding", **meta, "ts": funding_ts,
                                    "rate": 1e-4 + 5e-5 * rng.standard_normal(len(funding_ts)),
                                    "interval_hours": 8.0}))
        frames.append(pd.DataFrame({"source": "open_interest", **meta, "ts": ts,
                                    "oi_usd": 1e9 * np.exp(np.cumsum(0.01 * rng.standard_normal(bars)))}))
        frames.append(pd.DataFrame({"source": "futures_quote", **meta, "ts": ts, "mark_price": close * 1.0002,
                                    "index_price": common}))
    long = pd.concat(frames, ignore_index=True)
    from cryptoderiv.features.market_features import LONG_COLUMNS  # local: keeps this module import-light

    for column, kind in LONG_COLUMNS.items():
        if column not in long.columns:
            long[column] = np.nan if kind == "double" else None
    long["instrument_id"] = long["instrument_id"].astype(np.int32)
    long["expiry"] = pd.to_datetime(long["expiry"], utc=True)
    return long[list(LONG_COLUMNS)]
