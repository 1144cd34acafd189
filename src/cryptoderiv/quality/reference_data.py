"""The real market files in ``../shared/data/market`` as suite input (for validation, never published).

The readers turn the published files into the input contract of the suites
(:mod:`cryptoderiv.quality.frames`), converting their units on the way, and say where the contract
cannot be met from the file:

- Deribit chain snapshots (``deribit_svcj_snapshots/daily_0900utc_gz``): premiums in coin (inverse
  options), ``implied_volatility`` a decimal mark IV, ``underlying`` the per-expiry forward. The USD
  columns are the coin prices times the index (what a coin premium is worth now). The file has one
  timestamp per snapshot and no per-quote time, and ``time_to_maturity`` counts years of 365.25 days
  (converted to the schema's ACT/365), so ``quote_ts`` is the snapshot time (the staleness
  rule cannot fail on these files); bid/ask IVs, gamma and theta are not in the file (NaN).
- Deribit dated futures marks (``deribit_svcj_snapshots/futures/term_futures_marks.csv``), with the
  index taken from the same snapshot's option rows (median per currency); no bid/ask in the file.
- Binance spot candles (``binance_ohlcv_btc_eth``): ``timestamp`` is the candle open time in UTC; the
  last bar of each file is still forming.
- Funding-rate histories (``perp_funding_basis_dvol/funding_multiexchange_supervik_MIT``): timestamps
  are UTC+3 (``utc_offset_hours=3`` shifts them to UTC), rates decimal per interval.

The files are read in place (not copied) and may be absent: callers check :func:`market_dir`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from cryptoderiv.config import PROJECT_ROOT

log = logging.getLogger(__name__)

DERIBIT_DATE = "%d%b%y"
#: The snapshot files' ``time_to_maturity`` is (expiry - timestamp) in years of 365.25 days.
FILE_YEAR_DAYS = 365.25
_TIMEFRAME = re.compile(r"_(\d+[mhdw])\.csv$")


def market_dir() -> Path:
    """``../shared/data/market`` relative to the project root."""
    return PROJECT_ROOT.parent / "shared" / "data" / "market"


def deribit_snapshot_files(directory: Path | None = None) -> list[Path]:
    """The daily Deribit chain snapshots, oldest first."""
    folder = directory or market_dir() / "deribit_svcj_snapshots" / "daily_0900utc_gz"
    return sorted(folder.glob("deribit_options_snapshot_*.csv.gz"))


def _deribit_symbol(instrument_name: pd.Series) -> pd.Series:
    """``BTC-16JAN26-82000-C`` -> ``BTC/USD:BTC-260116-82000-C`` (futures ``BTC-25DEC26`` -> ``BTC/USD:BTC-261225``)."""
    codes, names = pd.factorize(instrument_name)
    parts = pd.Series(names, dtype="str").str.split("-", n=2, expand=True)
    day = pd.to_datetime(parts[1], format=DERIBIT_DATE).dt.strftime("%y%m%d")
    rest = ("-" + parts[2].astype("str")).fillna("") if 2 in parts.columns else ""
    converted = (parts[0] + "/USD:" + parts[0] + "-" + day + rest).to_numpy(dtype=object)
    return pd.Series(converted[codes], index=instrument_name.index).astype("str")


def read_deribit_snapshot(path: Path) -> pd.DataFrame:
    """One Deribit chain snapshot as an ``option_quotes`` input frame (see the module docstring)."""
    raw = pd.read_csv(path)
    ts = pd.to_datetime(raw["timestamp"], utc=True, format="ISO8601")
    index = raw["index_price"].astype("float64")
    frame = pd.DataFrame({
        "exchange": "deribit",
        "symbol": _deribit_symbol(raw["instrument_name"]),
        "base": raw["currency"].astype("str"),
        "expiry": pd.to_datetime(raw["expiry_datetime"], utc=True, format="ISO8601"),
        "strike": raw["strike"].astype("float64"),
        "option_type": raw["option_type"].astype("str"),
        "ts": ts,
        "quote_ts": ts,
        "premium_currency": raw["currency"].astype("str"),
        "bid": raw["bid_price"].astype("float64"),
        "ask": raw["ask_price"].astype("float64"),
        "mark": raw["mark_price"].astype("float64"),
        "bid_usd": raw["bid_price"] * index,
        "ask_usd": raw["ask_price"] * index,
        "mark_usd": raw["mark_price"] * index,
        "bid_iv": np.nan, "ask_iv": np.nan,
        "mark_iv": raw["implied_volatility"].astype("float64"),
        "delta": raw["delta"].astype("float64"), "gamma": np.nan,
        "vega": raw["vega"].astype("float64"), "theta": np.nan,
        "underlying_price": raw["underlying"].astype("float64"),
        "index_price": index,
        # the file counts years of 365.25 days; the schema's time to expiry is ACT/365
        "time_to_expiry": raw["time_to_maturity"].astype("float64") * FILE_YEAR_DAYS / 365.0,
        "open_interest": raw["open_interest"].astype("float64"),
        "volume": raw["volume"].astype("float64"),
    })
    frame["exchange"] = frame["exchange"].astype("str")
    return frame


def read_deribit_snapshots(paths: list[Path]) -> pd.DataFrame:
    """Several snapshots as one frame (index 0..n-1)."""
    return pd.concat([read_deribit_snapshot(p) for p in paths], ignore_index=True)


def read_deribit_futures(path: Path | None = None, options: pd.DataFrame | None = None) -> pd.DataFrame:
    """Deribit dated-futures marks as a ``futures_quotes`` input frame.

    The index of each (snapshot, currency) is the median ``index_price`` of ``options`` (a frame from
    :func:`read_deribit_snapshots`); snapshots absent from ``options`` are dropped.
    """
    source = path or market_dir() / "deribit_svcj_snapshots" / "futures" / "term_futures_marks.csv"
    raw = pd.read_csv(source, usecols=["timestamp", "currency", "futures_instrument_name", "snapshot_term_mark_price"])
    raw["ts"] = pd.to_datetime(raw["timestamp"], utc=True, format="ISO8601")
    if options is None or options.empty:
        raise ValueError("read_deribit_futures needs the option snapshots to take the index from")
    index = options.groupby(["ts", "base"], as_index=False)["index_price"].median()
    merged = raw.merge(index, left_on=["ts", "currency"], right_on=["ts", "base"], how="inner")
    symbol = _deribit_symbol(merged["futures_instrument_name"])
    expiry_day = merged["futures_instrument_name"].str.split("-").str[1]
    expiry = pd.to_datetime(expiry_day, format=DERIBIT_DATE, utc=True) + pd.Timedelta(hours=8)
    mark = merged["snapshot_term_mark_price"].astype("float64")
    basis = mark - merged["index_price"]
    days = (expiry - merged["ts"]).dt.total_seconds() / 86_400.0
    return pd.DataFrame({
        "exchange": pd.Series("deribit", index=merged.index, dtype="str"), "symbol": symbol,
        "base": merged["currency"].astype("str"), "expiry": expiry, "ts": merged["ts"], "quote_ts": merged["ts"],
        "mark_price": mark, "index_price": merged["index_price"].astype("float64"), "bid": np.nan, "ask": np.nan,
        "basis": basis, "basis_apr": basis / merged["index_price"] * 365.0 / days,
    })


def read_binance_candles(path: Path) -> pd.DataFrame:
    """A Binance candle file (``BTCUSDT_4h.csv``) as an ``ohlcv`` input frame (timeframe from the name)."""
    match = _TIMEFRAME.search(path.name)
    if not match:
        raise ValueError(f"cannot tell the timeframe of {path.name}")
    pair = path.name.split("_")[0]
    quote = "USDT" if pair.endswith("USDT") else pair[-3:]
    raw = pd.read_csv(path)
    frame = pd.DataFrame({
        "exchange": "binance", "symbol": f"{pair.removesuffix(quote)}/{quote}", "timeframe": match.group(1),
        "ts": pd.to_datetime(raw["timestamp"], utc=True),
        **{c: raw[c].astype("float64") for c in ("open", "high", "low", "close", "volume")},
    })
    for column in ("exchange", "symbol", "timeframe"):
        frame[column] = frame[column].astype("str")
    return frame


def read_funding_history(path: Path, exchange: str, symbol: str, interval_hours: int = 8,
                         utc_offset_hours: int = 3) -> pd.DataFrame:
    """A funding history of the multi-exchange set as a ``funding_rates`` input frame, its UTC+3
    timestamps shifted to UTC by ``utc_offset_hours`` (0 leaves them as published)."""
    raw = pd.read_csv(path)
    ts = pd.to_datetime(raw["Date"]).dt.tz_localize("UTC") - pd.Timedelta(hours=utc_offset_hours)
    frame = pd.DataFrame({"exchange": exchange, "symbol": symbol, "ts": ts,
                          "rate": raw["Funding Rate"].astype("float64"),
                          "interval_hours": np.int16(interval_hours)})
    frame["interval_hours"] = frame["interval_hours"].astype("int16")
    for column in ("exchange", "symbol"):
        frame[column] = frame[column].astype("str")
    return frame
