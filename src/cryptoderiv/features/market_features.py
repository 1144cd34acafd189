"""Market features per instrument and bar: the table forecasting models read (pandas twin of the Spark job).

Input is one *long* frame per instrument (perpetuals, dated futures and spot): the rows of several market
tables stacked with a ``source`` column (``ohlcv``, ``funding``, ``open_interest``, ``futures_quote``) and
the union of their columns (:data:`LONG_COLUMNS`), so that one group holds everything an instrument's
features need and Spark can run :func:`instrument_features` per instrument through ``applyInPandas``.
Cross-venue spreads need every venue of a base at a bar and are added afterwards by
:func:`add_cross_venue_spread`.

Features (per bar ``ts`` of the candles, all as of the bar's close, never looking ahead):

* ``log_return`` (one bar) and ``return_24`` (log return over 24 bars);
* realised volatility, annualised (:mod:`cryptoderiv.analytics.realized_vol`): close-to-close, Parkinson,
  Garman-Klass and Yang-Zhang, each over the windows of :data:`VOL_WINDOWS` bars;
* ``funding_rate`` (the last published, decimal per interval) and ``funding_apr``
  (:func:`cryptoderiv.analytics.carry.funding_apr`, with each row's interval), for perpetuals;
* ``basis`` = ``mark / index - 1`` and ``basis_apr`` (dated futures: ``basis * 365 / days to expiry``)
  from the last futures quote at or before the bar;
* ``oi_usd`` and ``oi_change_24`` (relative change of open interest in USD over 24 bars);
* ``cross_venue_spread_bp``: ``close / median(close of the same base and kind over venues) - 1``, in bp.

Rows are emitted only for bars in ``[start, end)``; earlier bars (the look-back) only feed the windows.
"""

from __future__ import annotations

import logging
from typing import Final

import numpy as np
import pandas as pd

from cryptoderiv.analytics.carry import funding_apr
from cryptoderiv.analytics.realized_vol import close_to_close, garman_klass, parkinson, periods_per_year, yang_zhang
from cryptoderiv.features.frames import empty_frame

log = logging.getLogger(__name__)

VOL_WINDOWS: Final = (24, 168)
RETURN_HORIZON: Final = 24
DEFAULT_TIMEFRAME: Final = "1h"
#: bars of history needed before the first output bar
LOOKBACK_BARS: Final = max(VOL_WINDOWS) + 1

LONG_COLUMNS: Final[dict[str, str]] = {
    "source": "string", "instrument_id": "int", "exchange": "string", "base": "string", "kind": "string",
    "expiry": "timestamp", "ts": "timestamp",
    "open": "double", "high": "double", "low": "double", "close": "double", "volume": "double",
    "rate": "double", "interval_hours": "double", "oi_usd": "double", "mark_price": "double",
    "index_price": "double",
}

_VOL_ESTIMATORS: Final = ("cc", "parkinson", "gk", "yz")

OUTPUT_SCHEMA: Final[dict[str, str]] = {
    "instrument_id": "int", "timeframe": "string", "ts": "timestamp", "exchange": "string", "base": "string",
    "kind": "string", "close": "double", "log_return": "double", f"return_{RETURN_HORIZON}": "double",
    **{f"rv_{est}_{w}": "double" for w in VOL_WINDOWS for est in _VOL_ESTIMATORS},
    "funding_rate": "double", "funding_apr": "double", "basis": "double", "basis_apr": "double",
    "oi_usd": "double", f"oi_change_{RETURN_HORIZON}": "double", "cross_venue_spread_bp": "double",
}


def _as_of(bars: pd.DataFrame, events: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The last event row at or before each bar (bars and events sorted by ts)."""
    if events.empty:
        return pd.DataFrame({c: np.full(len(bars), np.nan) for c in columns})
    idx = np.searchsorted(events["ts"].to_numpy(), bars["ts"].to_numpy(), side="right") - 1
    out = {}
    for c in columns:
        values = events[c].to_numpy(dtype=np.float64, na_value=np.nan)
        out[c] = np.where(idx >= 0, values[np.maximum(idx, 0)], np.nan)
    return pd.DataFrame(out)


def instrument_features(
    rows: pd.DataFrame,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    timeframe: str = DEFAULT_TIMEFRAME,
) -> pd.DataFrame:
    """Features of one instrument from its long rows (see the module docstring).

    Parameters
    ----------
    rows : pandas.DataFrame
        Columns :data:`LONG_COLUMNS`, one instrument; ``ohlcv`` rows of one timeframe.
    start, end : pandas.Timestamp, optional
        Output window ``[start, end)`` (UTC; naive timestamps are read as UTC); default all bars.
    timeframe : str, default "1h"
        Bar size of the candles (annualisation and the output's ``timeframe``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OUTPUT_SCHEMA` except ``cross_venue_spread_bp`` (NaN here), one row per bar.
    """
    bars = rows[rows["source"] == "ohlcv"].sort_values("ts").drop_duplicates("ts").reset_index(drop=True)
    if bars.empty:
        return empty_frame(OUTPUT_SCHEMA)
    periods = periods_per_year(timeframe)
    o, h, lo, c = (bars[x].to_numpy(dtype=np.float64, na_value=np.nan) for x in ("open", "high", "low", "close"))
    out = pd.DataFrame({
        "instrument_id": bars["instrument_id"].to_numpy(dtype=np.int32), "timeframe": timeframe,
        "ts": bars["ts"], "exchange": bars["exchange"], "base": bars["base"], "kind": bars["kind"], "close": c,
    })
    log_c = np.log(c)
    out["log_return"] = np.concatenate([[np.nan], np.diff(log_c)])
    lagged = np.full_like(log_c, np.nan)
    lagged[RETURN_HORIZON:] = log_c[:-RETURN_HORIZON] if len(c) > RETURN_HORIZON else lagged[RETURN_HORIZON:]
    out[f"return_{RETURN_HORIZON}"] = log_c - lagged
    n = len(bars)
    for w in VOL_WINDOWS:
        enough = n > w
        out[f"rv_cc_{w}"] = close_to_close(c, w, periods=periods) if enough else np.nan
        out[f"rv_parkinson_{w}"] = parkinson(h, lo, w, periods=periods) if enough else np.nan
        out[f"rv_gk_{w}"] = garman_klass(o, h, lo, c, w, periods=periods) if enough else np.nan
        out[f"rv_yz_{w}"] = yang_zhang(o, h, lo, c, w, periods=periods) if enough else np.nan

    def events(source: str, columns: list[str]) -> pd.DataFrame:
        ev = rows[rows["source"] == source].sort_values("ts")
        return _as_of(bars, ev[["ts", *columns]].reset_index(drop=True), columns)

    funding = events("funding", ["rate", "interval_hours"])
    out["funding_rate"] = funding["rate"].to_numpy()
    # the interval varies per row (venues change it); rows before the first funding print stay NaN
    out["funding_apr"] = funding_apr(funding["rate"].to_numpy(), funding["interval_hours"].to_numpy())
    fq = events("futures_quote", ["mark_price", "index_price"])
    basis = fq["mark_price"].to_numpy() / fq["index_price"].to_numpy() - 1.0
    out["basis"] = basis
    expiry = bars["expiry"]
    if expiry.notna().any():
        days = (pd.to_datetime(expiry) - pd.to_datetime(bars["ts"])).dt.total_seconds().to_numpy() / 86400.0
        out["basis_apr"] = np.where(days > 0, basis * 365.0 / np.where(days > 0, days, 1.0), np.nan)
    else:
        out["basis_apr"] = np.nan
    oi = events("open_interest", ["oi_usd"])["oi_usd"].to_numpy()
    out["oi_usd"] = oi
    oi_lag = np.full_like(oi, np.nan)
    if n > RETURN_HORIZON:
        oi_lag[RETURN_HORIZON:] = oi[:-RETURN_HORIZON]
    out[f"oi_change_{RETURN_HORIZON}"] = oi / oi_lag - 1.0
    out["cross_venue_spread_bp"] = np.nan
    keep = np.ones(n, dtype=bool)
    ts = pd.to_datetime(bars["ts"])
    if start is not None:
        keep &= (ts >= _like(start, ts)).to_numpy()
    if end is not None:
        keep &= (ts < _like(end, ts)).to_numpy()
    return out.loc[keep, list(OUTPUT_SCHEMA)].reset_index(drop=True)


def _like(bound: pd.Timestamp, ts: pd.Series) -> pd.Timestamp:
    """``bound`` in the time zone convention of ``ts`` (Spark hands pandas naive UTC timestamps)."""
    b = pd.Timestamp(bound)
    aware = isinstance(ts.dtype, pd.DatetimeTZDtype)
    if aware and b.tzinfo is None:
        return b.tz_localize("UTC")
    if not aware and b.tzinfo is not None:
        return b.tz_convert("UTC").tz_localize(None)
    return b


def add_cross_venue_spread(features: pd.DataFrame) -> pd.DataFrame:
    """Fill ``cross_venue_spread_bp``: ``(close / median close of the base and kind at the bar - 1) * 1e4``."""
    out = features.copy()
    median = out.groupby(["base", "kind", "ts"])["close"].transform("median")
    out["cross_venue_spread_bp"] = (out["close"] / median - 1.0) * 1e4
    return out


def market_features(
    rows: pd.DataFrame,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    timeframe: str = DEFAULT_TIMEFRAME,
) -> pd.DataFrame:
    """Features of every instrument of a long frame, with cross-venue spreads (the whole-frame pandas path).

    Parameters
    ----------
    rows, start, end, timeframe
        As in :func:`instrument_features`, for any number of instruments.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OUTPUT_SCHEMA`, sorted by ``instrument_id`` and ``ts``.
    """
    parts = [instrument_features(g, start, end, timeframe) for _, g in rows.groupby("instrument_id", sort=True)]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return empty_frame(OUTPUT_SCHEMA)
    return add_cross_venue_spread(pd.concat(parts, ignore_index=True))
