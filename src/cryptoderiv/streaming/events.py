"""Ticks and trades as the sidecar carries them, normalised from ccxt.pro structures.

Units follow :mod:`cryptoderiv.exchanges.normalize`: timestamps in ms UTC; Deribit mark IV divided by 100
(decimal); trade amounts in base units (Deribit inverse contracts trade in USD: the base amount is ccxt's
``cost``); option mark prices as quoted (coin for Deribit's inverse options).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from cryptoderiv.exchanges.normalize import contract_size

#: Column order of a tick row (the ``ticks`` table, keyed by exchange + symbol before id resolution).
TICK_COLUMNS = (
    "exchange", "symbol", "ts", "source", "bid", "bid_size", "ask", "ask_size", "last", "mark_price",
    "index_price", "underlying_price", "mark_iv", "delta", "gamma", "vega", "theta", "funding_rate",
)
#: Column order of a trade row (the ``trades`` table).
TRADE_COLUMNS = ("exchange", "symbol", "trade_id", "ts", "price", "amount", "side")


def _f(value: Any) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _positive(value: Any) -> float | None:
    out = _f(value)
    return out if out is not None and out > 0 else None


def iso_ms(ts_ms: float) -> str:
    """ISO-8601 UTC text of a ms timestamp (millisecond precision, ``Z`` suffix)."""
    return dt.datetime.fromtimestamp(ts_ms / 1000.0, tz=dt.UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


@dataclass(slots=True)
class Tick:
    """One ticker / best bid-ask / option ticker update.

    Attributes
    ----------
    exchange, symbol : str
        Venue id and ccxt unified symbol.
    ts : int
        Venue event time, ms UTC (the simulator stamps it when it sends the message).
    source : {"ticker", "book", "option"}
        Channel kind.
    received_ms : float
        Local receive time, ms UTC.
    bid, ask, last, mark_price, index_price, underlying_price : float or None
        Prices (quote currency; Deribit option marks in coin).
    bid_size, ask_size : float or None
        As the venue reports them.
    mark_iv : float or None
        Decimal.
    delta, gamma, vega, theta : float or None
        Venue greeks as reported.
    funding_rate : float or None
        Decimal per funding interval.
    expiry : str or None
        Options: expiry date (ISO).
    base : str or None
        Base coin.
    """

    exchange: str
    symbol: str
    ts: int
    source: str
    received_ms: float
    bid: float | None = None
    bid_size: float | None = None
    ask: float | None = None
    ask_size: float | None = None
    last: float | None = None
    mark_price: float | None = None
    index_price: float | None = None
    underlying_price: float | None = None
    mark_iv: float | None = None
    delta: float | None = None
    gamma: float | None = None
    vega: float | None = None
    theta: float | None = None
    funding_rate: float | None = None
    expiry: str | None = None
    base: str | None = None

    def row(self) -> tuple[Any, ...]:
        """The row in :data:`TICK_COLUMNS` order."""
        bid, ask = self.bid, self.ask
        if bid is not None and ask is not None and bid > ask:  # a crossed quote is not stored as a book
            bid = ask = None
        return (self.exchange, self.symbol, self.ts, self.source, bid, self.bid_size, ask, self.ask_size,
                self.last, self.mark_price, self.index_price, self.underlying_price, self.mark_iv, self.delta,
                self.gamma, self.vega, self.theta, self.funding_rate)

    @property
    def mid(self) -> float | None:
        """(bid + ask) / 2, else last, else mark."""
        if self.bid is not None and self.ask is not None:
            return 0.5 * (self.bid + self.ask)
        return self.last if self.last is not None else self.mark_price


@dataclass(slots=True, frozen=True)
class Trade:
    """One public trade (amount in base units).

    ``seq`` is the venue's per-instrument trade sequence where it has one (Binance: the trade id; Deribit:
    ``trade_seq``, its trade ids are global across instruments); Bybit has none (execution UUIDs).
    """

    exchange: str
    symbol: str
    trade_id: str
    ts: int
    price: float
    amount: float
    side: str | None
    seq: int | None = None

    def row(self) -> tuple[Any, ...]:
        """The row in :data:`TRADE_COLUMNS` order."""
        return (self.exchange, self.symbol, self.trade_id, self.ts, self.price, self.amount, self.side)


def event_time(venue: str, ticker: dict[str, Any]) -> int | None:
    """Venue event time of a ccxt ticker, ms UTC.

    Binance's 24 h ticker and book ticker put it in ``E`` (spot book tickers carry only the update id ``u``,
    which the simulator sets to the send time); Bybit and Deribit in the unified ``timestamp``.
    """
    info = ticker.get("info") or {}
    if venue == "binance":
        for key in ("E", "T", "u"):
            value = info.get(key)
            if value is not None:
                return int(value)
    ts = ticker.get("timestamp")
    return int(ts) if ts is not None else None


def tick_from_ticker(venue: str, ticker: dict[str, Any], source: str, received_ms: float,
                     market: dict[str, Any] | None = None) -> Tick | None:
    """A :class:`Tick` from a ccxt ticker (``watch_ticker`` / ``watch_bids_asks``); None without a time."""
    ts = event_time(venue, ticker)
    if ts is None:
        return None
    info = ticker.get("info") or {}
    tick = Tick(
        exchange=venue, symbol=str(ticker["symbol"]), ts=ts, source=source, received_ms=received_ms,
        bid=_positive(ticker.get("bid")), bid_size=_f(ticker.get("bidVolume")),
        ask=_positive(ticker.get("ask")), ask_size=_f(ticker.get("askVolume")),
        last=_positive(ticker.get("last")),
        mark_price=_f(ticker.get("markPrice")), index_price=_positive(ticker.get("indexPrice")),
    )
    if venue == "deribit":
        tick.funding_rate = _f(info.get("current_funding"))
        if market is not None and market.get("option"):
            greeks = info.get("greeks") or {}
            iv = _f(info.get("mark_iv"))
            tick.source = "option"
            tick.mark_price = _f(info.get("mark_price"))
            tick.mark_iv = iv / 100.0 if iv is not None else None
            tick.underlying_price = _positive(info.get("underlying_price"))
            tick.delta, tick.gamma = _f(greeks.get("delta")), _f(greeks.get("gamma"))
            tick.vega, tick.theta = _f(greeks.get("vega")), _f(greeks.get("theta"))
            expiry = market.get("expiry")
            when = dt.datetime.fromtimestamp(int(expiry) / 1000, tz=dt.UTC) if expiry else None
            tick.expiry = when.date().isoformat() if when is not None else None
    elif venue == "bybit":
        tick.funding_rate = _f(info.get("fundingRate")) if info.get("fundingRate") not in (None, "") else None
    if market is not None:
        tick.base = market.get("base")
    return tick


def trade_from_ccxt(venue: str, trade: dict[str, Any], market: dict[str, Any]) -> Trade:
    """A :class:`Trade` from a ccxt trade; amount converted to base units (see the module docstring)."""
    inverse = bool(market.get("inverse")) and market.get("type") in ("swap", "future")
    amount = float(trade["cost"]) if inverse else float(trade["amount"]) * contract_size(market)
    side = trade.get("side")
    return Trade(venue, str(trade["symbol"]), str(trade["id"]), int(trade["timestamp"]), float(trade["price"]),
                 amount, side if side in ("buy", "sell") else None, trade_sequence(venue, trade))


def trade_sequence(venue: str, trade: dict[str, Any]) -> int | None:
    """The per-instrument trade sequence number of a ccxt trade, or None where the venue has none."""
    raw = (trade.get("info") or {}).get("trade_seq") if venue == "deribit" else \
        trade.get("id") if venue == "binance" else None
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None
