"""Normalisation of ccxt structures into the frames of :mod:`cryptoderiv.exchanges.schemas`.

This module is the one place where venue units are converted:

* **inverse vs linear premiums** - Deribit options are quoted in the base coin; ``*_usd`` columns multiply by
  the option's per-expiry forward (``underlying_price``): USD per unit of underlying, undiscounted, the Black-76
  value Deribit's marks are computed from (``mark_coin = black76(F, K, t, mark_iv) / F``), as in
  ``docs/metrics.md``. The cash value of a premium paid now is ``coin x index_price``. Bybit options are
  quoted in USDT, taken as USD.
* **implied volatility** - Deribit reports ``mark_iv``/``bid_iv``/``ask_iv`` in percent (in ``info``); Bybit
  ``markIv``/``bid1Iv``/``ask1Iv`` as decimals. Output is always a decimal; a zero bid IV (no bid) is missing.
* **open interest** - Deribit counts USD for inverse futures and perpetuals (``openInterestValue``) and coins
  for options; Binance and Bybit count base units. Output gives contracts, base coin and USD.
* **funding** - Deribit's hourly rows carry ``interest_1h`` (paid per hour) and a trailing ``interest_8h``
  (what ccxt puts in ``fundingRate``); the frame holds ``interest_1h`` with ``interval_hours = 1``.
  Binance and Bybit pay per 8 h.
* **symbols and expiries** - CCXT unified symbols; expiries and timestamps as tz-aware UTC.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cryptoderiv.exchanges.schemas import (
    CANDLES,
    FUNDING,
    FUTURES_QUOTES,
    INSTRUMENTS,
    OPEN_INTEREST,
    OPTION_QUOTES,
    TRADES,
)

MS_PER_YEAR = 365.0 * 86_400_000.0


def to_utc(ms: Any) -> pd.Series | pd.Timestamp:
    """Milliseconds since the epoch as tz-aware UTC timestamps (NaT for missing)."""
    return pd.to_datetime(ms, unit="ms", utc=True)


def _num(value: Any) -> float:
    """A float, NaN for missing or unparsable values."""
    if value is None or value == "":
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _positive_or_nan(value: Any) -> float:
    x = _num(value)
    return x if x > 0 else math.nan


def contract_size(market: dict[str, Any]) -> float:
    """Contract size of a ccxt market (1 for spot and when the venue gives none)."""
    size = _num(market.get("contractSize"))
    return 1.0 if math.isnan(size) or size <= 0 else size


def kind_of(market: dict[str, Any]) -> str:
    """``spot``, ``perpetual``, ``future`` or ``option`` of a ccxt market."""
    return {"spot": "spot", "swap": "perpetual", "future": "future", "option": "option"}.get(
        market["type"], market["type"]
    )


def funding_interval_hours(venue: str, market: dict[str, Any]) -> int | None:
    """Funding interval of a perpetual as the frames report it (Deribit: hourly ``interest_1h``)."""
    if market.get("type") != "swap":
        return None
    if venue == "deribit":
        return 1
    if venue == "bybit":
        minutes = _num((market.get("info") or {}).get("fundingInterval"))
        return int(minutes // 60) if not math.isnan(minutes) else 8
    return 8


def candles_frame(venue: str, symbol: str, timeframe: str, rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """OHLCV rows (``[ts, open, high, low, close, volume]``) as a
    :data:`~cryptoderiv.exchanges.schemas.CANDLES` frame."""
    if not rows:
        return CANDLES.empty()
    arr = np.array([[_num(x) for x in row[:6]] for row in rows], dtype=np.float64)
    frame = pd.DataFrame(
        {
            "exchange": venue,
            "symbol": symbol,
            "timeframe": timeframe,
            "ts": to_utc(arr[:, 0].astype(np.int64)),
            "open": arr[:, 1],
            "high": arr[:, 2],
            "low": arr[:, 3],
            "close": arr[:, 4],
            "volume": arr[:, 5],
        }
    )
    return CANDLES.conform(frame)


def funding_frame(venue: str, symbol: str, rows: Iterable[dict[str, Any]], interval_hours: int) -> pd.DataFrame:
    """ccxt funding-rate history structures as a :data:`~cryptoderiv.exchanges.schemas.FUNDING` frame."""
    records = []
    for row in rows:
        rate = _num((row.get("info") or {}).get("interest_1h")) if venue == "deribit" else _num(row.get("fundingRate"))
        records.append({"ts": row["timestamp"], "rate": rate})
    if not records:
        return FUNDING.empty()
    frame = pd.DataFrame(records)
    frame["ts"] = to_utc(frame["ts"])
    frame["exchange"], frame["symbol"], frame["interval_hours"] = venue, symbol, interval_hours
    return FUNDING.conform(frame)


def trades_frame(venue: str, symbol: str, market: dict[str, Any], rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """ccxt trades as a :data:`~cryptoderiv.exchanges.schemas.TRADES` frame (amount in base units).

    Deribit inverse contracts trade in USD: ccxt's ``amount`` is USD and ``cost`` the base amount.
    """
    inverse = bool(market.get("inverse")) and market.get("type") in ("swap", "future")
    records = [
        {
            "trade_id": str(t["id"]),
            "ts": t["timestamp"],
            "price": _num(t["price"]),
            "amount": _num(t["cost"]) if inverse else _num(t["amount"]) * contract_size(market),
            "side": t.get("side"),
        }
        for t in rows
    ]
    if not records:
        return TRADES.empty()
    frame = pd.DataFrame(records)
    frame["ts"] = to_utc(frame["ts"])
    frame["exchange"], frame["symbol"] = venue, symbol
    return TRADES.conform(frame)


def open_interest_row(venue: str, market: dict[str, Any], oi: dict[str, Any], price: float | None) -> dict[str, Any]:
    """One open-interest observation in contracts, base coin and USD.

    Parameters
    ----------
    venue : str
        Venue id.
    market : dict
        ccxt market of the contract.
    oi : dict
        ccxt open-interest structure.
    price : float or None
        Price (USD per base coin) used to convert between base and USD when the venue gives only one.
    """
    size = contract_size(market)
    amount, value = _num(oi.get("openInterestAmount")), _num(oi.get("openInterestValue"))
    px = _num(price)
    inverse_contract = venue == "deribit" and market.get("type") in ("swap", "future")
    if inverse_contract:
        usd = value if not math.isnan(value) else amount * size
        contracts, base = usd / size, usd / px
    else:
        contracts = amount
        base = amount * size
        usd = value if not math.isnan(value) else base * px
    return {
        "exchange": venue,
        "symbol": market["symbol"],
        "ts": oi["timestamp"],
        "oi_contracts": contracts,
        "oi_base": base,
        "oi_usd": usd,
    }


def open_interest_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows of :func:`open_interest_row` as an :data:`~cryptoderiv.exchanges.schemas.OPEN_INTEREST` frame."""
    if not rows:
        return OPEN_INTEREST.empty()
    frame = pd.DataFrame(rows)
    frame["ts"] = to_utc(frame["ts"])
    return OPEN_INTEREST.conform(frame)


def instruments_frame(venue: str, markets: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """ccxt markets as an :data:`~cryptoderiv.exchanges.schemas.INSTRUMENTS` frame."""
    records = []
    for m in markets:
        kind = kind_of(m)
        spot = kind == "spot"
        records.append(
            {
                "exchange": venue,
                "symbol": m["symbol"],
                "exchange_id": m["id"],
                "kind": kind,
                "base": m["base"],
                "quote": m["quote"],
                "settle": None if spot else m.get("settle"),
                "is_inverse": bool(m.get("inverse")) and not spot,
                "is_linear": bool(m.get("linear")) and not spot,
                "contract_size": contract_size(m),
                "expiry": m.get("expiry") if kind in ("future", "option") else None,
                "strike": m.get("strike"),
                "option_type": m.get("optionType"),
                "funding_interval_hours": funding_interval_hours(venue, m),
                "active": m.get("active"),
                "listed_at": m.get("created"),
            }
        )
    if not records:
        return INSTRUMENTS.empty()
    frame = pd.DataFrame(records)
    for column in ("expiry", "listed_at"):
        frame[column] = to_utc(pd.to_numeric(frame[column], errors="coerce"))
    return INSTRUMENTS.conform(frame)


def deribit_option_quotes(
    chain: dict[str, dict[str, Any]], markets: dict[str, dict[str, Any]], tickers: dict[str, dict[str, Any]]
) -> pd.DataFrame:
    """Deribit ``fetch_option_chain`` (book summaries) plus optional ``ticker`` answers as an option-quotes frame.

    Parameters
    ----------
    chain : dict
        ``fetch_option_chain`` result (symbol -> option structure with the book summary in ``info``).
    markets : dict
        ccxt markets by symbol.
    tickers : dict
        Raw ``public/ticker`` results by symbol. An option with one takes every column from it (one instant,
        with greeks and bid/ask IV); without one, from the book summary (mark IV only, no greeks).
    """
    records = []
    for symbol, option in chain.items():
        info = option.get("info") or {}
        market = markets.get(symbol)
        if market is None:
            continue
        ticker = tickers.get(symbol)
        if ticker:
            # one instant for every column: the ticker repeats the book summary's fields with the greeks
            greeks = ticker.get("greeks") or {}
            stats = ticker.get("stats") or {}
            ts, index = _num(ticker.get("timestamp")), _num(ticker.get("index_price"))
            bid, ask = _positive_or_nan(ticker.get("best_bid_price")), _positive_or_nan(ticker.get("best_ask_price"))
            mark, mark_iv = _num(ticker.get("mark_price")), _positive_or_nan(ticker.get("mark_iv")) / 100.0
            bid_iv = _positive_or_nan(ticker.get("bid_iv")) / 100.0
            ask_iv = _positive_or_nan(ticker.get("ask_iv")) / 100.0
            forward, oi = _num(ticker.get("underlying_price")), _num(ticker.get("open_interest"))
            volume = _num(stats.get("volume"))
        else:
            greeks = {}
            ts, index = _num(info.get("creation_timestamp")), _num(info.get("estimated_delivery_price"))
            bid, ask, mark = _num(option.get("bidPrice")), _num(option.get("askPrice")), _num(option.get("markPrice"))
            mark_iv, bid_iv, ask_iv = _positive_or_nan(info.get("mark_iv")) / 100.0, math.nan, math.nan
            forward, oi = _num(info.get("underlying_price")), _num(option.get("openInterest"))
            volume = _num(option.get("baseVolume"))
        records.append(
            {
                "exchange": "deribit",
                "symbol": symbol,
                "underlying": market["base"],
                "expiry": market["expiry"],
                "strike": _num(market["strike"]),
                "option_type": market["optionType"],
                "ts": ts,
                "premium_currency": info.get("quote_currency") or market["base"],
                "bid": bid,
                "ask": ask,
                "mark": mark,
                "bid_usd": bid * forward,
                "ask_usd": ask * forward,
                "mark_usd": mark * forward,
                "bid_iv": bid_iv,
                "ask_iv": ask_iv,
                "mark_iv": mark_iv,
                "delta": _num(greeks.get("delta")),
                "gamma": _num(greeks.get("gamma")),
                "vega": _num(greeks.get("vega")),
                "theta": _num(greeks.get("theta")),
                "underlying_price": forward,
                "index_price": index,
                "open_interest": oi,
                "volume": volume,
            }
        )
    return _option_frame(records)


def bybit_option_quotes(
    chain: dict[str, dict[str, Any]], markets: dict[str, dict[str, Any]], fetched_at_ms: int
) -> pd.DataFrame:
    """Bybit ``fetch_option_chain`` (v5 tickers) as an option-quotes frame (USDT premiums, decimal IVs).

    Bybit's tickers carry no timestamp; ``fetched_at_ms`` (the answer's time) is used.
    """
    records = []
    for symbol, option in chain.items():
        info = option.get("info") or {}
        market = markets.get(symbol)
        if market is None:
            continue
        bid = _positive_or_nan(info.get("bid1Price"))
        ask = _positive_or_nan(info.get("ask1Price"))
        mark = _num(info.get("markPrice"))
        records.append(
            {
                "exchange": "bybit",
                "symbol": symbol,
                "underlying": market["base"],
                "expiry": market["expiry"],
                "strike": _num(market["strike"]),
                "option_type": market["optionType"],
                "ts": fetched_at_ms,
                "premium_currency": market.get("settle") or "USDT",
                "bid": bid,
                "ask": ask,
                "mark": mark,
                "bid_usd": bid,
                "ask_usd": ask,
                "mark_usd": mark,
                "bid_iv": _positive_or_nan(info.get("bid1Iv")) if not math.isnan(bid) else math.nan,
                "ask_iv": _positive_or_nan(info.get("ask1Iv")),
                "mark_iv": _positive_or_nan(info.get("markIv")),
                "delta": _num(info.get("delta")),
                "gamma": _num(info.get("gamma")),
                "vega": _num(info.get("vega")),
                "theta": _num(info.get("theta")),
                "underlying_price": _num(info.get("underlyingPrice")),
                "index_price": _num(info.get("indexPrice")),
                "open_interest": _num(info.get("openInterest")),
                "volume": _num(info.get("volume24h")),
            }
        )
    return _option_frame(records)


def _option_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    if not records:
        return OPTION_QUOTES.empty()
    frame = pd.DataFrame(records)
    frame["time_to_expiry"] = (frame["expiry"].astype("float64") - frame["ts"].astype("float64")) / MS_PER_YEAR
    frame["expiry"] = to_utc(frame["expiry"].astype("int64"))
    frame["ts"] = to_utc(frame["ts"].astype("int64"))
    return OPTION_QUOTES.conform(frame)


def futures_quotes_frame(venue: str, rows: list[dict[str, Any]], markets: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Mark, index and top of book of perpetuals and futures as a futures-quotes frame.

    Parameters
    ----------
    venue : str
        Venue id.
    rows : list of dict
        ``{"symbol", "ts", "mark", "index", "bid", "ask"}`` per contract.
    markets : dict
        ccxt markets by symbol.
    """
    records = []
    for r in rows:
        market = markets[r["symbol"]]
        mark, index = _num(r["mark"]), _num(r["index"])
        expiry = market.get("expiry") if market.get("type") == "future" else None
        basis = mark - index
        apr = math.nan
        if expiry is not None:
            days = (expiry - r["ts"]) / 86_400_000.0
            apr = basis / index * 365.0 / days if days > 0 else math.nan
        records.append(
            {
                "exchange": venue,
                "symbol": r["symbol"],
                "kind": kind_of(market),
                "expiry": expiry,
                "ts": r["ts"],
                "mark_price": mark,
                "index_price": index,
                "bid": _positive_or_nan(r.get("bid")),
                "ask": _positive_or_nan(r.get("ask")),
                "basis": basis,
                "basis_apr": apr,
            }
        )
    if not records:
        return FUTURES_QUOTES.empty()
    frame = pd.DataFrame(records)
    frame["expiry"] = to_utc(pd.to_numeric(frame["expiry"], errors="coerce"))
    frame["ts"] = to_utc(frame["ts"])
    return FUTURES_QUOTES.conform(frame)
