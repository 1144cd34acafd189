"""Series the forecasters learn from, and the targets they forecast.

A *series frame* is a :class:`pandas.DataFrame` indexed by the UTC open time of consecutive periods
(days by default) with the columns

- ``value``: the observation of the forecast variable over the period: the realised variance (sum of
  squared intraday log returns, decimal^2 per period) for volatility targets, the mean funding rate
  (decimal per funding interval) for funding targets;
- ``ret`` (volatility series only): the period's log return, close to close.

A forecast made at row ``t`` (at the close of period ``t``) is for the mean of ``value`` over the next
``horizon`` periods, :func:`target`. Everything at row ``t`` uses rows ``<= t`` only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import psycopg

from cryptoderiv.errors import CryptoderivError

log = logging.getLogger(__name__)

TargetKind = Literal["variance", "level"]


class ForecastDataError(CryptoderivError):
    """The history needed for a forecast is missing or malformed."""


@dataclass(frozen=True)
class TargetSpec:
    """A forecast target.

    Attributes
    ----------
    name : str
        Identifier used in tables, MLflow and the registry (``rv_1d``, ``rv_7d``, ``funding_1d``).
    horizon : int
        Number of periods averaged (1 = next period).
    kind : {"variance", "level"}
        ``variance``: positive, evaluated with QLIKE; ``level``: any sign (funding), squared-error rules.
    unit : str
        Unit of the forecast value, stored with every forecast row.
    """

    name: str
    horizon: int
    kind: TargetKind
    unit: str

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise ValueError(f"target {self.name}: horizon must be >= 1, got {self.horizon}")


VARIANCE_UNIT = "realised variance per day, decimal^2 (mean over the horizon)"
FUNDING_UNIT = "funding rate per interval, decimal (daily mean)"
TARGETS: dict[str, TargetSpec] = {
    "rv_1d": TargetSpec("rv_1d", 1, "variance", VARIANCE_UNIT),
    "rv_7d": TargetSpec("rv_7d", 7, "variance", VARIANCE_UNIT),
    "funding_1d": TargetSpec("funding_1d", 1, "level", FUNDING_UNIT),
}


def target(frame: pd.DataFrame, horizon: int) -> pd.Series:
    """The value to forecast at each row: mean of ``value`` over the next ``horizon`` rows (NaN at the end).

    ``y_t = (value_{t+1} + ... + value_{t+h}) / h``.
    """
    values = frame["value"].astype(np.float64)
    return values.rolling(horizon).mean().shift(-horizon).rename("target")


def realized_from_bars(bars: pd.DataFrame, period: str = "1D", min_coverage: float = 0.75) -> pd.DataFrame:
    """Aggregate intraday bars into a series frame of realised variance and returns per period.

    Parameters
    ----------
    bars : pandas.DataFrame
        Columns ``ts`` (UTC bar open time) and ``close``; one instrument, any bar width.
    period : str
        Pandas frequency of the output periods (``"1D"``; ``"1h"`` for short demo histories).
    min_coverage : float
        Periods with fewer than this share of the modal number of bars per period are dropped
        (a partial first or last period, a gap).

    Returns
    -------
    pandas.DataFrame
        Index: period open (UTC); ``value`` = sum of squared bar log returns (decimal^2 per period),
        ``ret`` = sum of bar log returns, ``n_bars``.

    Notes
    -----
    A bar's log return ``log(close_i / close_{i-1})`` is counted in the period of the bar, so the
    overnight move from the previous period's last close is included and the returns of a period sum
    to its close-to-close return. The first bar has no return and is dropped.
    """
    if bars.empty:
        return pd.DataFrame({"value": [], "ret": [], "n_bars": []},
                            index=pd.DatetimeIndex([], tz="UTC", name="ts"))
    ordered = bars.sort_values("ts")
    ts = pd.DatetimeIndex(pd.to_datetime(ordered["ts"], utc=True))
    close = ordered["close"].to_numpy(dtype=np.float64)
    if np.any(~np.isfinite(close) | (close <= 0)):
        bad = int(np.flatnonzero(~np.isfinite(close) | (close <= 0))[0])
        raise ForecastDataError(f"bar at {ts[bad]} has a non-positive close {close[bad]!r}")
    r = np.diff(np.log(close))
    frame = pd.DataFrame({"r2": r**2, "r": r, "n": 1}, index=ts[1:].floor(period))
    grouped = frame.groupby(level=0).sum()
    full = grouped["n"].mode().iloc[0] if len(grouped) else 0
    keep = grouped["n"] >= min_coverage * full
    if (~keep).any():
        log.info("dropping %d of %d periods with too few bars (< %.0f%% of %d)", int((~keep).sum()),
                 len(grouped), 100 * min_coverage, full)
    grouped = grouped[keep]
    out = pd.DataFrame({"value": grouped["r2"], "ret": grouped["r"], "n_bars": grouped["n"].astype(np.int64)},
                       index=grouped.index)
    out.index.name = "ts"
    return out


def load_binance_csv(path: Path, drop_last: bool = True) -> pd.DataFrame:
    """Read a Binance candle CSV (``timestamp,open,high,low,close,volume``; candle-open UTC).

    ``drop_last`` removes the last candle, which in the published files is still forming (partial).
    Returns columns ``ts`` (UTC) and ``close``.
    """
    raw = pd.read_csv(path)
    if "timestamp" not in raw or "close" not in raw:
        raise ForecastDataError(f"{path}: expected columns timestamp and close, got {list(raw.columns)}")
    frame = pd.DataFrame({"ts": pd.to_datetime(raw["timestamp"], utc=True), "close": raw["close"].astype(float)})
    frame = frame.sort_values("ts").drop_duplicates("ts", keep="last").reset_index(drop=True)
    return frame.iloc[:-1] if drop_last else frame


def load_ohlcv_bars(conn: psycopg.Connection, exchange: str, symbol: str, timeframe: str,
                    end: pd.Timestamp, start: pd.Timestamp | None = None) -> pd.DataFrame:
    """Closes of one instrument's candles of ``timeframe`` from ``ohlcv`` with open time in ``[start, end)``.

    Returns columns ``ts`` (UTC) and ``close``; empty when the instrument or the bars are missing
    (callers decide whether that is an error).
    """
    rows = conn.execute(
        "SELECT o.ts, o.close FROM ohlcv o JOIN instruments i USING (instrument_id)"
        " WHERE i.exchange = %s AND i.symbol = %s AND o.timeframe = %s AND o.ts < %s"
        " AND (%s::timestamptz IS NULL OR o.ts >= %s::timestamptz) ORDER BY o.ts",
        (exchange, symbol, timeframe, end, start, start)).fetchall()
    frame = pd.DataFrame(rows, columns=["ts", "close"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["close"] = frame["close"].astype(np.float64)
    return frame


def load_funding_series(conn: psycopg.Connection, exchange: str, symbol: str, end: pd.Timestamp,
                        period: str = "1D", start: pd.Timestamp | None = None) -> pd.DataFrame:
    """Mean funding rate per period (decimal per funding interval) from ``funding_rates``, ``[start, end)``."""
    rows = conn.execute(
        "SELECT f.ts, f.rate FROM funding_rates f JOIN instruments i USING (instrument_id)"
        " WHERE i.exchange = %s AND i.symbol = %s AND f.ts < %s"
        " AND (%s::timestamptz IS NULL OR f.ts >= %s::timestamptz) ORDER BY f.ts",
        (exchange, symbol, end, start, start)).fetchall()
    if not rows:
        return pd.DataFrame({"value": []}, index=pd.DatetimeIndex([], tz="UTC", name="ts"))
    raw = pd.DataFrame(rows, columns=["ts", "rate"])
    idx = pd.DatetimeIndex(pd.to_datetime(raw["ts"], utc=True)).floor(period)
    out = raw["rate"].astype(np.float64).groupby(idx).mean().to_frame("value")
    out.index.name = "ts"
    return out


@dataclass(frozen=True)
class SeriesSource:
    """Where one symbol's series comes from in the platform database.

    ``target_kind`` "variance": candles of ``timeframe`` aggregated into ``period`` realised variance;
    "level": the instrument's funding rates averaged per ``period``. Without candles of ``timeframe``
    the 1m candles are used.
    """

    exchange: str
    symbol: str
    target_kind: TargetKind = "variance"
    timeframe: str = "1h"
    period: str = "1D"

    @property
    def key(self) -> str:
        """``exchange:symbol``, the series name in bundles and tables."""
        return f"{self.exchange}:{self.symbol}"


def load_series(conn: psycopg.Connection, source: SeriesSource, end: pd.Timestamp,
                start: pd.Timestamp | None = None) -> pd.DataFrame:
    """A series frame for ``source`` from the database, periods opening before ``end`` (UTC).

    Tolerant of short histories: returns whatever complete periods exist (possibly none); the period
    containing ``end`` is excluded, so a partial period is never used.
    """
    end = pd.Timestamp(end).tz_convert("UTC") if pd.Timestamp(end).tzinfo else pd.Timestamp(end, tz="UTC")
    cutoff = end.floor(source.period)
    if source.target_kind == "variance":
        bars = load_ohlcv_bars(conn, source.exchange, source.symbol, source.timeframe, cutoff, start)
        if bars.empty and source.timeframe != "1m":
            log.info("%s: no %s candles, falling back to 1m", source.key, source.timeframe)
            bars = load_ohlcv_bars(conn, source.exchange, source.symbol, "1m", cutoff, start)
        frame = realized_from_bars(bars, source.period)
    else:
        frame = load_funding_series(conn, source.exchange, source.symbol, cutoff, source.period, start)
    log.info("%s: %d periods of %s up to %s", source.key, len(frame), source.period, cutoff)
    return frame


def as_float_frame(frame: pd.DataFrame, columns: Sequence[str] = ("value",)) -> pd.DataFrame:
    """Check a series frame: sorted unique UTC index, the named float columns present and finite."""
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is None:
        raise ForecastDataError("a series frame needs a UTC DatetimeIndex")
    if not frame.index.is_monotonic_increasing or frame.index.has_duplicates:
        raise ForecastDataError("a series frame's index must be increasing and unique")
    missing = [c for c in columns if c not in frame]
    if missing:
        raise ForecastDataError(f"series frame lacks column(s) {missing}")
    for c in columns:
        values = frame[c].to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ForecastDataError(f"series frame column {c!r} is not finite at {frame.index[bad[0]]}")
    return frame


def history_payload(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Long table of several series (column ``series``): the input of a logged forecaster bundle.

    ``ts`` is UTC without a time zone attached (MLflow's schema enforcement accepts naive datetimes only).
    """
    parts: list[pd.DataFrame] = []
    for key, frame in frames.items():
        part = frame.reset_index()
        part.insert(0, "series", key)
        parts.append(part)
    cols: dict[str, Any] = {"series": [], "ts": [], "value": [], "ret": []}
    if not parts:
        return pd.DataFrame(cols)
    out = pd.concat(parts, ignore_index=True)
    if "ret" not in out:
        out["ret"] = np.nan
    out["ts"] = pd.to_datetime(out["ts"], utc=True).dt.tz_localize(None)
    return out[["series", "ts", "value", "ret"]]
