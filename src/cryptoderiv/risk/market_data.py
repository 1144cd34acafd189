"""Read what the risk stage needs from the platform database (and, where present, the real data files).

Everything is read *as of the end of a UTC day*: candles that open before ``as_of + 1 day`` and snapshots
(quotes, funding, fits) taken at or before it, so re-running a date gives the same inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from cryptoderiv.portfolio.positions import Portfolio
from cryptoderiv.portfolio.valuation import MissingMarketData, PositionQuote
from cryptoderiv.pricing.heston import HestonParams

__all__ = ["Snapshot", "day_end", "load_daily_log_returns", "load_forecasts", "load_heston_params",
           "load_snapshot", "read_binance_daily_returns", "read_dvol_changes"]

log = logging.getLogger(__name__)
_SPOT_SOURCES = (("binance", "{b}/USDT"), ("bybit", "{b}/USDT"), ("deribit", "{b}/USDC"))


def day_end(as_of: date) -> pd.Timestamp:
    """Exclusive end of the UTC day ``as_of``."""
    return pd.Timestamp(as_of).tz_localize("UTC") + pd.Timedelta(days=1) if pd.Timestamp(as_of).tzinfo is None \
        else pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)


@dataclass(frozen=True)
class Snapshot:
    """Spot per base (USD), quotes per position id, and the snapshot time (latest data used, UTC)."""

    spot: dict[str, float]
    quotes: dict[str, PositionQuote]
    ts: pd.Timestamp


def _latest_spot(conn: psycopg.Connection, base: str, end: pd.Timestamp) -> tuple[float, pd.Timestamp] | None:
    for exchange, pattern in _SPOT_SOURCES:
        row = conn.execute(
            "SELECT o.close, o.ts FROM ohlcv o JOIN instruments i USING (instrument_id)"
            " WHERE i.exchange = %s AND i.symbol = %s AND o.ts < %s ORDER BY o.ts DESC LIMIT 1",
            (exchange, pattern.format(b=base), end)).fetchone()
        if row is not None:
            return float(row[0]), pd.Timestamp(row[1])
    row = conn.execute(
        "SELECT q.index_price, q.ts FROM futures_quotes q JOIN instruments i USING (instrument_id)"
        " WHERE i.base = %s AND i.kind = 'perpetual' AND q.ts <= %s ORDER BY q.ts DESC LIMIT 1", (base, end)).fetchone()
    return (float(row[0]), pd.Timestamp(row[1])) if row is not None else None


def load_snapshot(conn: psycopg.Connection, portfolio: Portfolio, as_of: date) -> Snapshot:
    """Market state of every position at the end of ``as_of`` (UTC).

    Spot: last 1m/1d close of the Binance (else Bybit, Deribit) spot pair, else a perpetual's index.  Futures:
    last ``futures_quotes`` mark.  Perpetuals: also the last funding rate (APR = rate * 24 * 365 / hours).
    Options: last ``option_quotes`` row (mark IV, per-expiry forward, time to expiry re-measured from the
    snapshot time) and the latest ``vol_surfaces`` SVI slice of the expiry, if any.

    Raises
    ------
    MissingMarketData
        A base has no spot or a derivative position has no quote before the end of the day (names it).
    """
    end = day_end(as_of)
    spot: dict[str, float] = {}
    stamps = []
    for b in portfolio.bases:
        got = _latest_spot(conn, b, end)
        if got is None:
            raise MissingMarketData(f"no spot price for {b} before {end}")
        spot[b], ts = got
        stamps.append(ts)
    quotes: dict[str, PositionQuote] = {}
    for p in portfolio.positions:
        if p.kind == "spot":
            continue
        inst = conn.execute("SELECT instrument_id, funding_interval_hours FROM instruments"
                            " WHERE exchange = %s AND symbol = %s", (p.exchange, p.symbol)).fetchone()
        if inst is None:
            raise MissingMarketData(f"position {p.position_id!r}: {p.exchange} {p.symbol} is not in instruments")
        iid = inst[0]
        if p.kind in ("perpetual", "future"):
            row = conn.execute("SELECT mark_price, ts FROM futures_quotes WHERE instrument_id = %s AND ts <= %s"
                               " ORDER BY ts DESC LIMIT 1", (iid, end)).fetchone()
            if row is None:
                raise MissingMarketData(f"position {p.position_id!r}: no futures quote for {p.symbol} before {end}")
            ts = pd.Timestamp(row[1])
            apr = 0.0
            if p.kind == "perpetual":
                f = conn.execute("SELECT rate, interval_hours FROM funding_rates WHERE instrument_id = %s AND ts <= %s"
                                 " ORDER BY ts DESC LIMIT 1", (iid, end)).fetchone()
                apr = float(f[0]) * 24 * 365 / float(f[1]) if f is not None else 0.0
            t = max((p.expiry - ts).total_seconds(), 0.0) / (365 * 86400) if p.expiry is not None else 0.0
            quotes[p.position_id] = PositionQuote(price=float(row[0]), t=t, funding_apr=apr)
        else:
            row = conn.execute("SELECT mark_iv, underlying_price, ts FROM option_quotes WHERE instrument_id = %s"
                               " AND ts <= %s ORDER BY ts DESC LIMIT 1", (iid, end)).fetchone()
            if row is None or row[0] is None:
                raise MissingMarketData(f"position {p.position_id!r}: no option quote with IV for {p.symbol} "
                                        f"before {end}")
            ts = pd.Timestamp(row[2])
            assert p.expiry is not None
            t = max((p.expiry - ts).total_seconds(), 0.0) / (365 * 86400)
            svi_row = conn.execute(
                "SELECT svi_a, svi_b, svi_rho, svi_m, svi_sigma, time_to_expiry FROM vol_surfaces"
                " WHERE exchange = %s AND base = %s AND expiry = %s AND ts <= %s ORDER BY ts DESC LIMIT 1",
                (p.exchange, p.base, p.expiry, ts)).fetchone()
            svi = tuple(float(x) for x in svi_row[:5]) if svi_row is not None else None
            quotes[p.position_id] = PositionQuote(
                price=float(row[1]), t=t, iv=float(row[0]), svi=svi,  # type: ignore[arg-type]
                svi_t=float(svi_row[5]) if svi_row is not None else None)
        stamps.append(ts)
    return Snapshot(spot, quotes, max(stamps))


def load_daily_log_returns(conn: psycopg.Connection, bases: Sequence[str], as_of: date,
                           lookback_days: int = 800) -> pd.DataFrame:
    """Daily close-to-close log returns per base up to the end of ``as_of`` from the database.

    Daily closes come from Binance spot ``<BASE>/USDT`` candles: the ``1d`` candle where stored, else the last
    ``1m`` close of each UTC day; candles opening before ``as_of + 1 day`` only.  Returns a frame indexed by
    UTC day (the first row, which has no previous close, is dropped).
    """
    end = day_end(as_of)
    start = end - pd.Timedelta(days=lookback_days + 1)
    closes = {}
    for b in bases:
        rows = conn.execute(
            "SELECT date_trunc('day', o.ts AT TIME ZONE 'UTC') AS d,"
            " (array_agg(o.close ORDER BY o.timeframe = '1d' DESC, o.ts DESC))[1]"
            " FROM ohlcv o JOIN instruments i USING (instrument_id)"
            " WHERE i.exchange = 'binance' AND i.symbol = %s AND o.timeframe IN ('1d', '1m')"
            " AND o.ts >= %s AND o.ts < %s GROUP BY 1 ORDER BY 1", (f"{b}/USDT", start, end)).fetchall()
        closes[b] = pd.Series({pd.Timestamp(d): float(c) for d, c in rows}, dtype=float)
    frame = pd.DataFrame(closes).sort_index()
    return frame.apply(np.log).diff().iloc[1:]


def read_binance_daily_returns(ohlcv_dir: Path, bases: Sequence[str] = ("BTC", "ETH")) -> pd.DataFrame:
    """Daily log returns from the real Binance ``<BASE>USDT_1d.csv`` files (last, partial bar dropped)."""
    out = {}
    for b in bases:
        c = pd.read_csv(Path(ohlcv_dir) / f"{b}USDT_1d.csv", parse_dates=["timestamp"]).set_index(
            "timestamp")["close"].sort_index()
        out[b] = c.iloc[:-1]
    return pd.DataFrame(out).apply(np.log).diff().iloc[1:]


def read_dvol_changes(dvol_csv: Path, bases: Sequence[str] = ("BTC", "ETH")) -> pd.DataFrame:
    """Daily changes of Deribit BTC DVOL as decimal vol (points / 100), applied to every base (ETH: proxy).

    Days after a gap in the series get NaN (treated as no vol change)."""
    d = pd.read_csv(dvol_csv, parse_dates=["date"]).set_index("date")["dvol"].sort_index()
    full = d.reindex(pd.date_range(d.index[0], d.index[-1], freq="D"))
    change = full.diff() / 100.0
    return pd.DataFrame({b: change for b in bases})


def load_heston_params(conn: psycopg.Connection, bases: Sequence[str], as_of: date) -> dict[str, HestonParams]:
    """Latest converged Heston parameters per base (Deribit preferred) from ``heston_params`` (migration 030).

    Returns an empty mapping when the table does not exist."""
    if conn.execute("SELECT to_regclass('heston_params')").fetchone()[0] is None:  # type: ignore[index]
        return {}
    out = {}
    for b in bases:
        row = conn.execute(
            "SELECT v0, kappa, theta, sigma, rho FROM heston_params WHERE underlying = %s AND status = 'converged'"
            " AND snapshot_ts <= %s ORDER BY exchange = 'deribit' DESC, snapshot_ts DESC LIMIT 1",
            (b, day_end(as_of))).fetchone()
        if row is not None:
            out[b] = HestonParams(*(float(x) for x in row))
    return out


def load_forecasts(conn: psycopg.Connection, bases: Sequence[str], as_of: date) -> dict[str, dict[str, Any]]:
    """Latest champion realised-vol forecast per base from the ``forecasts`` table (migration 031), if present.

    Uses the ``rv_7d`` target (else ``rv_1d``) of the base's Binance (else any venue's) spot pair or USDT
    perpetual with ``as_of`` at or before the end of the day; ``vol_annualised`` is the annual decimal vol.
    Returns ``{base: {"vol": float, "model": "<model_kind>:<target>"}}``; bases without a row are absent, and
    an absent table gives an empty mapping.  (No drift forecasts are published: drift stays 0.)
    """
    if conn.execute("SELECT to_regclass('forecasts')").fetchone()[0] is None:  # type: ignore[index]
        return {}
    out: dict[str, dict[str, Any]] = {}
    for b in bases:
        row = conn.execute(
            "SELECT vol_annualised, model_kind, target FROM forecasts"
            " WHERE symbol = ANY(%s) AND target IN ('rv_7d', 'rv_1d') AND as_of <= %s AND vol_annualised > 0"
            " ORDER BY as_of DESC, target = 'rv_7d' DESC, exchange = 'binance' DESC LIMIT 1",
            ([f"{b}/USDT", f"{b}/USDT:USDT"], day_end(as_of))).fetchone()
        if row is not None:
            out[b] = {"vol": float(row[0]), "model": f"{row[1]}:{row[2]}"}
    return out
