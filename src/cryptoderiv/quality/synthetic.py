"""Seeded clean batches of every table, coherent enough that every rule of every suite passes.

They are the baseline of the quality tests (a defect from :mod:`cryptoderiv.quality.defects` is injected
into a clean batch, so the only failure is the defect's) and the benchmark's input. The market behind
them: Deribit inverse options on BTC and ETH priced with Black-76 off a smile whose total variance rises
with expiry, perpetuals and dated futures on a carry curve, 1m candles from
:func:`cryptoderiv.samples.sample_candles`. Same arguments, same frames.

Every frame follows the input contract of :mod:`cryptoderiv.quality.frames` (exchange + symbol, no
instrument id; instrument fields and ``quote_ts`` included where the suite needs them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtr

from cryptoderiv.quality.conditions import SECONDS_PER_YEAR, black76_undiscounted
from cryptoderiv.samples import sample_candles

SPOT = {"BTC": 90_000.0, "ETH": 3_000.0}
#: Strike grid of the synthetic chains (on Deribit's grid: BTC multiples of 500, ETH of 5).
STRIKE_STEP = {"BTC": 2_500.0, "ETH": 100.0}
CARRY = 0.06  # annual basis of futures and forwards over the index
TICK = 0.0001  # option premium tick, coin

_CATALOG_COLUMNS = ["exchange", "symbol", "kind", "base", "quote", "settle", "is_inverse", "contract_size",
                    "expiry", "strike", "option_type", "funding_interval_hours"]


def _expiry(start: pd.Timestamp, days: int) -> pd.Timestamp:
    return (start.normalize() + pd.Timedelta(days=days)) + pd.Timedelta(hours=8)


def option_symbol(base: str, expiry: pd.Timestamp, strike: float, option_type: str) -> str:
    """The CCXT unified symbol of a Deribit inverse option."""
    strike_text = f"{int(strike)}" if float(strike).is_integer() else f"{strike:g}"
    return f"{base}/USD:{base}-{expiry:%y%m%d}-{strike_text}-{option_type[0].upper()}"


def instruments(start: pd.Timestamp, expiry_days: Sequence[int] = (7, 30, 91),
                strikes_per_side: int = 4) -> pd.DataFrame:
    """The catalog: spot, perpetuals (Binance, Bybit, Deribit), Deribit dated futures and option chains.

    Options expire at 08:00 UTC ``expiry_days`` after ``start``'s date, with ``2 * strikes_per_side + 1``
    strikes per expiry centred on the spot (calls and puts).
    """
    rows: list[tuple[object, ...]] = [
        ("binance", "BTC/USDT", "spot", "BTC", "USDT", None, False, 1.0, pd.NaT, np.nan, None, pd.NA),
        ("binance", "ETH/USDT", "spot", "ETH", "USDT", None, False, 1.0, pd.NaT, np.nan, None, pd.NA),
        ("binance", "BTC/USDT:USDT", "perpetual", "BTC", "USDT", "USDT", False, 1.0, pd.NaT, np.nan, None, 8),
        ("bybit", "BTC/USDT:USDT", "perpetual", "BTC", "USDT", "USDT", False, 1.0, pd.NaT, np.nan, None, 8),
        ("deribit", "BTC/USD:BTC", "perpetual", "BTC", "USD", "BTC", True, 10.0, pd.NaT, np.nan, None, 8),
        ("deribit", "ETH/USD:ETH", "perpetual", "ETH", "USD", "ETH", True, 1.0, pd.NaT, np.nan, None, 8),
    ]
    for base in ("BTC", "ETH"):
        for days in expiry_days:
            expiry = _expiry(start, days)
            rows.append(("deribit", f"{base}/USD:{base}-{expiry:%y%m%d}", "future", base, "USD", base, True,
                         10.0 if base == "BTC" else 1.0, expiry, np.nan, None, pd.NA))
            for i in range(-strikes_per_side, strikes_per_side + 1):
                strike = SPOT[base] + i * STRIKE_STEP[base]
                for option_type in ("call", "put"):
                    rows.append(("deribit", option_symbol(base, expiry, strike, option_type), "option", base, "USD",
                                 base, True, 1.0, expiry, strike, option_type, pd.NA))
    frame = pd.DataFrame(rows, columns=_CATALOG_COLUMNS)
    frame["expiry"] = pd.to_datetime(frame["expiry"], utc=True)
    frame["strike"] = frame["strike"].astype("float64")
    frame["contract_size"] = frame["contract_size"].astype("float64")
    frame["funding_interval_hours"] = frame["funding_interval_hours"].astype("Int16")
    frame["is_inverse"] = frame["is_inverse"].astype(bool)
    for column in ("exchange", "symbol", "kind", "base", "quote", "settle", "option_type"):
        frame[column] = frame[column].astype("str")
    return frame


def ohlcv(catalog: pd.DataFrame, start: pd.Timestamp, minutes: int, seed: int = 7) -> pd.DataFrame:
    """1m candles of the catalog's spot and perpetual instruments for ``[start, start + minutes)``."""
    series = catalog[catalog["kind"].isin(["spot", "perpetual"])]
    return sample_candles(series, start, minutes, seed=seed)


def trades(catalog: pd.DataFrame, start: pd.Timestamp, per_instrument: int, seconds: int = 3_600,
           seed: int = 11) -> pd.DataFrame:
    """Trades of the spot and perpetual instruments within ``[start, start + seconds)``."""
    rng = np.random.default_rng(seed)
    series = catalog[catalog["kind"].isin(["spot", "perpetual"])]
    frames = []
    for exchange, symbol, base in series[["exchange", "symbol", "base"]].itertuples(index=False):
        offsets = np.sort(rng.uniform(0, seconds, per_instrument))
        price = SPOT[str(base)] * np.exp(np.cumsum(rng.normal(0, 2e-4, per_instrument)))
        frames.append(pd.DataFrame({
            "exchange": exchange, "symbol": symbol, "trade_id": [f"{symbol}-{i}" for i in range(per_instrument)],
            "ts": start + pd.to_timedelta(offsets, unit="s"), "price": price,
            "amount": rng.gamma(1.5, 0.2, per_instrument), "side": rng.choice(["buy", "sell"], per_instrument),
        }))
    frame = pd.concat(frames, ignore_index=True)
    frame["ts"] = frame["ts"].dt.tz_convert("UTC")
    return frame


def funding_rates(catalog: pd.DataFrame, start: pd.Timestamp, periods: int, seed: int = 13) -> pd.DataFrame:
    """Funding of the perpetuals at their 8-hourly funding times from ``start`` on (start on the grid)."""
    rng = np.random.default_rng(seed)
    perps = catalog[catalog["kind"] == "perpetual"]
    times = pd.date_range(start.ceil("8h"), periods=periods, freq="8h")
    frames = [pd.DataFrame({"exchange": e, "symbol": s, "ts": times, "rate": rng.normal(1e-4, 5e-5, periods),
                            "interval_hours": np.int16(8)})
              for e, s in perps[["exchange", "symbol"]].itertuples(index=False)]
    frame = pd.concat(frames, ignore_index=True)
    frame["interval_hours"] = frame["interval_hours"].astype("int16")
    return frame


def open_interest(catalog: pd.DataFrame, start: pd.Timestamp, periods: int, seed: int = 17) -> pd.DataFrame:
    """Hourly open interest of perpetuals and dated futures."""
    rng = np.random.default_rng(seed)
    rows = catalog[catalog["kind"].isin(["perpetual", "future"])]
    times = pd.date_range(start, periods=periods, freq="1h")
    frames = []
    for exchange, symbol, base in rows[["exchange", "symbol", "base"]].itertuples(index=False):
        base_units = rng.uniform(1_000, 5_000, periods)
        frames.append(pd.DataFrame({"exchange": exchange, "symbol": symbol, "ts": times,
                                    "oi_contracts": np.round(base_units * 10), "oi_base": base_units,
                                    "oi_usd": base_units * SPOT[str(base)]}))
    return pd.concat(frames, ignore_index=True)


def futures_quotes(catalog: pd.DataFrame, snapshots: Sequence[pd.Timestamp], seed: int = 19) -> pd.DataFrame:
    """Mark, index, bid/ask and basis of perpetuals and dated futures at each snapshot."""
    rng = np.random.default_rng(seed)
    rows = catalog[catalog["kind"].isin(["perpetual", "future"])].reset_index(drop=True)
    frames = []
    for ts in snapshots:
        index = rows["base"].map(SPOT).to_numpy(dtype=float) * np.exp(rng.normal(0, 1e-3))
        t = ((rows["expiry"] - ts).dt.total_seconds() / SECONDS_PER_YEAR).to_numpy(dtype=float, na_value=np.nan)
        premium = np.where(np.isnan(t), rng.normal(2e-4, 1e-4, len(rows)), CARRY * np.nan_to_num(t))
        mark = index * np.exp(premium)
        basis = mark - index
        days = t * 365.0
        frames.append(pd.DataFrame({
            "exchange": rows["exchange"], "symbol": rows["symbol"], "base": rows["base"], "expiry": rows["expiry"],
            "ts": ts, "quote_ts": ts - pd.to_timedelta(rng.uniform(0, 3, len(rows)), unit="s"),
            "mark_price": mark, "index_price": index, "bid": mark * (1 - 1e-4), "ask": mark * (1 + 1e-4),
            "basis": basis, "basis_apr": np.where(np.isnan(t), np.nan, basis / index * 365.0 / days),
        }))
    return pd.concat(frames, ignore_index=True)


def smile_vol(k: np.ndarray, t: np.ndarray, base: np.ndarray) -> np.ndarray:
    """The synthetic implied vol: an ATM level rising with expiry times a mild skewed smile in
    log-moneyness ``k``; total variance rises with ``t`` at every ``k``."""
    atm = np.where(base == "ETH", 0.65, 0.50) + 0.04 * np.log1p(t)
    return atm * (1.0 - 0.25 * k + 1.2 * k * k)


def option_quotes(catalog: pd.DataFrame, snapshots: Sequence[pd.Timestamp], seed: int = 23) -> pd.DataFrame:
    """Chain snapshots of the catalog's options (Deribit-style: coin premiums, decimal IV, per-expiry
    forward), one row per option and snapshot, priced with Black-76 off :func:`smile_vol`."""
    rng = np.random.default_rng(seed)
    chain = catalog[catalog["kind"] == "option"].reset_index(drop=True)
    n_snap, n_opt = len(snapshots), len(chain)
    ts = pd.DatetimeIndex(list(snapshots)).tz_convert("UTC")
    moves = np.exp(np.cumsum(rng.normal(0, 2e-3, (n_snap, 2)), axis=0))  # BTC, ETH index paths
    base = np.tile(chain["base"].to_numpy(dtype=object), n_snap)
    spot = np.where(base == "BTC", SPOT["BTC"], SPOT["ETH"]) * np.where(
        base == "BTC", np.repeat(moves[:, 0], n_opt), np.repeat(moves[:, 1], n_opt))
    snap = np.repeat(ts.as_unit("ns").asi8, n_opt)
    expiry = np.tile(pd.DatetimeIndex(chain["expiry"]).as_unit("ns").asi8, n_snap)
    t = (expiry - snap) / 1e9 / SECONDS_PER_YEAR
    forward = spot * np.exp(CARRY * t)
    strike = np.tile(chain["strike"].to_numpy(dtype=float), n_snap)
    call = np.tile((chain["option_type"] == "call").to_numpy(), n_snap)
    k = np.log(strike / forward)
    vol = smile_vol(k, t, base)
    price = black76_undiscounted(call, forward, strike, t, vol)  # forward units (USD at the forward)
    mark = price / forward  # coin
    half = np.maximum(0.5 * TICK * 5, 0.015 * mark)
    bid = np.where(mark - half > TICK, mark - half, np.nan)
    ask = mark + half
    sd = vol * np.sqrt(t)
    d1 = (np.log(forward / strike) + 0.5 * sd * sd) / sd
    frame = pd.DataFrame({
        "exchange": np.tile(chain["exchange"].to_numpy(dtype=object), n_snap),
        "symbol": np.tile(chain["symbol"].to_numpy(dtype=object), n_snap),
        "base": base, "expiry": pd.to_datetime(expiry, utc=True), "strike": strike,
        "option_type": np.where(call, "call", "put"), "ts": pd.to_datetime(snap, utc=True),
        "quote_ts": pd.to_datetime(snap, utc=True) - pd.to_timedelta(rng.uniform(0, 2, n_snap * n_opt), unit="s"),
        "premium_currency": base, "bid": bid, "ask": ask, "mark": mark,
        "bid_usd": bid * spot, "ask_usd": ask * spot, "mark_usd": mark * spot,
        "bid_iv": np.nan, "ask_iv": np.nan, "mark_iv": vol,
        "delta": np.where(call, ndtr(d1), ndtr(d1) - 1.0), "gamma": np.nan,
        "vega": forward * np.exp(-0.5 * d1 * d1) / np.sqrt(2 * np.pi) * np.sqrt(t) / 100.0, "theta": np.nan,
        "underlying_price": forward, "index_price": spot, "time_to_expiry": t,
        "open_interest": np.round(rng.gamma(2.0, 50.0, n_snap * n_opt), 1),
        "volume": np.round(rng.gamma(1.0, 10.0, n_snap * n_opt), 1),
    })
    for column in ("exchange", "symbol", "base", "option_type", "premium_currency"):
        frame[column] = frame[column].astype("str")
    return frame


def clean_batch(table: str, start: pd.Timestamp, size: str = "small") -> tuple[pd.DataFrame, tuple[pd.Timestamp,
                                                                                                 pd.Timestamp]]:
    """A clean batch of ``table`` and its load window, for tests and examples (``size``: small | medium)."""
    catalog = instruments(start)
    scale = {"small": 1, "medium": 4}[size]
    if table == "instruments":
        return catalog, (start, start + pd.Timedelta(days=1))
    if table == "ohlcv":
        minutes = 60 * scale
        return ohlcv(catalog, start, minutes), (start, start + pd.Timedelta(minutes=minutes))
    if table == "trades":
        return trades(catalog, start, 40 * scale), (start, start + pd.Timedelta(hours=1))
    if table == "funding_rates":
        return funding_rates(catalog, start, 3 * scale), (start, start + pd.Timedelta(hours=8 * 3 * scale))
    if table == "open_interest":
        return open_interest(catalog, start, 6 * scale), (start, start + pd.Timedelta(hours=6 * scale))
    snaps = [start + pd.Timedelta(minutes=15 * i) for i in range(scale)]
    window = (start, start + pd.Timedelta(minutes=15 * scale))
    if table == "futures_quotes":
        return futures_quotes(catalog, snaps), window
    if table == "option_quotes":
        return option_quotes(catalog, snaps), window
    raise ValueError(f"no synthetic batch for table {table!r}")
