"""The normalised frames the exchange layer returns: one schema per kind of market data.

Every frame produced by :mod:`cryptoderiv.exchanges.normalize` has exactly the columns of its schema, in this
order and with these dtypes, so storage can map each schema to a table. Units are part of the schema:

* timestamps are tz-aware UTC (``datetime64[ms, UTC]``);
* prices are in the instrument's quote currency; option premiums are given twice, as quoted
  (``premium_currency``: the base coin for Deribit's inverse options, USDT for Bybit) and in USD per unit of
  underlying, undiscounted (coin premium x per-expiry forward);
* implied volatilities are annual decimals (0.55 = 55 %), never percent;
* funding rates are decimals per funding interval, with the interval in hours;
* time to expiry is ACT/365 years.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

UTC_TS = "datetime64[ms, UTC]"


@dataclass(frozen=True)
class Column:
    """One column of a normalised frame.

    Attributes
    ----------
    name : str
        Column name.
    dtype : str
        pandas dtype (``float64``, ``Int64``, ``string``, ``boolean``, ``datetime64[ms, UTC]``).
    unit : str
        Unit or meaning of the values.
    nullable : bool
        Whether missing values are allowed.
    """

    name: str
    dtype: str
    unit: str
    nullable: bool = True


@dataclass(frozen=True)
class FrameSchema:
    """Columns and natural key of a normalised frame.

    Attributes
    ----------
    name : str
        Schema name (matches the storage table where there is one).
    columns : tuple of Column
        Columns in order.
    key : tuple of str
        Natural key: unique per row.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]

    def empty(self) -> pd.DataFrame:
        """An empty frame with the schema's columns and dtypes."""
        return pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in self.columns})

    def conform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Select, order and cast the schema's columns; sort by the key.

        Only the structure is enforced here. Missing or duplicated *values* (a NaN close, two candles for
        one minute) are the venue's data defects: they go on to the quality gate, which quarantines the
        offending rows with their reason and publishes the rest, rather than failing the whole batch.

        Raises
        ------
        ValueError
            If a column is missing or a key column has missing values (such a row cannot be identified).
        """
        missing = [c for c in self.names if c not in frame.columns]
        if missing:
            raise ValueError(f"{self.name}: missing columns {missing}")
        out = pd.DataFrame({c.name: frame[c.name].astype(cast(Any, c.dtype)) for c in self.columns})
        for name in self.key:
            if out[name].isna().any():
                raise ValueError(f"{self.name}.{name} (a key column) has missing values")
        return out.sort_values(list(self.key), ignore_index=True, kind="stable")


def _c(name: str, dtype: str, unit: str, nullable: bool = True) -> Column:
    return Column(name, dtype, unit, nullable)


CANDLES = FrameSchema(
    "ohlcv",
    (
        _c("exchange", "string", "venue id: binance, bybit, deribit", False),
        _c("symbol", "string", "CCXT unified symbol", False),
        _c("timeframe", "string", "candle length, e.g. 1m, 1h, 1d", False),
        _c("ts", UTC_TS, "candle open time, UTC", False),
        _c("open", "float64", "quote currency", False),
        _c("high", "float64", "quote currency", False),
        _c("low", "float64", "quote currency", False),
        _c("close", "float64", "quote currency", False),
        _c("volume", "float64", "base-currency units (BTC for Deribit inverse contracts)", False),
    ),
    ("exchange", "symbol", "timeframe", "ts"),
)

FUNDING = FrameSchema(
    "funding_rates",
    (
        _c("exchange", "string", "venue id", False),
        _c("symbol", "string", "CCXT unified symbol of the perpetual", False),
        _c("ts", UTC_TS, "funding time (end of the interval), UTC", False),
        _c("rate", "float64", "decimal per interval (0.0001 = 1 bp); Deribit: interest_1h", False),
        _c("interval_hours", "Int64", "hours per funding interval (Binance/Bybit 8, Deribit 1)", False),
    ),
    ("exchange", "symbol", "ts"),
)

OPEN_INTEREST = FrameSchema(
    "open_interest",
    (
        _c("exchange", "string", "venue id", False),
        _c("symbol", "string", "CCXT unified symbol", False),
        _c("ts", UTC_TS, "observation time, UTC", False),
        _c("oi_contracts", "float64", "contracts as the venue counts them (Deribit inverse: USD / contract size)"),
        _c("oi_base", "float64", "base coin"),
        _c("oi_usd", "float64", "USD (USDT for linear contracts)"),
    ),
    ("exchange", "symbol", "ts"),
)

TRADES = FrameSchema(
    "trades",
    (
        _c("exchange", "string", "venue id", False),
        _c("symbol", "string", "CCXT unified symbol", False),
        _c("trade_id", "string", "venue trade id, unique per instrument", False),
        _c("ts", UTC_TS, "trade time, UTC", False),
        _c("price", "float64", "quote currency", False),
        _c("amount", "float64", "base units (BTC for Deribit inverse contracts)", False),
        _c("side", "string", "taker side: buy or sell"),
    ),
    ("exchange", "symbol", "ts", "trade_id"),
)

OPTION_QUOTES = FrameSchema(
    "option_quotes",
    (
        _c("exchange", "string", "venue id", False),
        _c("symbol", "string", "CCXT unified symbol", False),
        _c("underlying", "string", "base coin, e.g. BTC", False),
        _c("expiry", UTC_TS, "expiry, UTC", False),
        _c("strike", "float64", "USD (USDT for Bybit)", False),
        _c("option_type", "string", "call or put", False),
        _c("ts", UTC_TS, "snapshot time, UTC", False),
        _c("premium_currency", "string", "currency of bid/ask/mark: base coin for inverse options, else USDT", False),
        _c("bid", "float64", "premium_currency; missing when there is no bid"),
        _c("ask", "float64", "premium_currency; missing when there is no ask"),
        _c("mark", "float64", "premium_currency", False),
        _c("bid_usd", "float64", "USD per unit of underlying, undiscounted: coin premium x underlying_price"),
        _c("ask_usd", "float64", "USD per unit of underlying, undiscounted"),
        _c("mark_usd", "float64", "USD per unit of underlying, undiscounted (Black-76 value on the forward)", False),
        _c("bid_iv", "float64", "annual decimal; missing without a bid"),
        _c("ask_iv", "float64", "annual decimal"),
        _c("mark_iv", "float64", "annual decimal"),
        _c("delta", "float64", "venue greek: per unit of underlying"),
        _c("gamma", "float64", "venue greek: per unit of underlying per USD"),
        _c("vega", "float64", "venue greek: USD per volatility point"),
        _c("theta", "float64", "venue greek: USD per day"),
        _c("underlying_price", "float64", "per-expiry forward (future or synthetic), USD", False),
        _c("index_price", "float64", "spot index, USD", False),
        _c("time_to_expiry", "float64", "ACT/365 years from ts", False),
        _c("open_interest", "float64", "contracts (1 contract = 1 base coin on Deribit and Bybit)"),
        _c("volume", "float64", "contracts traded over 24 h"),
    ),
    ("exchange", "symbol", "ts"),
)

FUTURES_QUOTES = FrameSchema(
    "futures_quotes",
    (
        _c("exchange", "string", "venue id", False),
        _c("symbol", "string", "CCXT unified symbol", False),
        _c("kind", "string", "perpetual or future", False),
        _c("expiry", UTC_TS, "expiry, UTC; missing for perpetuals"),
        _c("ts", UTC_TS, "quote time, UTC", False),
        _c("mark_price", "float64", "quote currency", False),
        _c("index_price", "float64", "quote currency", False),
        _c("bid", "float64", "quote currency"),
        _c("ask", "float64", "quote currency"),
        _c("basis", "float64", "mark - index, quote currency", False),
        _c("basis_apr", "float64", "basis / index x 365 / days to expiry; missing for perpetuals"),
    ),
    ("exchange", "symbol", "ts"),
)

INSTRUMENTS = FrameSchema(
    "instruments",
    (
        _c("exchange", "string", "venue id", False),
        _c("symbol", "string", "CCXT unified symbol", False),
        _c("exchange_id", "string", "the venue's instrument id", False),
        _c("kind", "string", "spot, perpetual, future or option", False),
        _c("base", "string", "base currency", False),
        _c("quote", "string", "quote currency", False),
        _c("settle", "string", "settlement currency; missing for spot"),
        _c("is_inverse", "boolean", "coin-settled contract (premiums and P&L in the base coin)", False),
        _c("is_linear", "boolean", "contract settled in the quote currency", False),
        _c("contract_size", "float64", "USD per contract for inverse futures, base units otherwise", False),
        _c("expiry", UTC_TS, "expiry, UTC; futures and options"),
        _c("strike", "float64", "quote currency; options"),
        _c("option_type", "string", "call or put; options"),
        _c("funding_interval_hours", "Int64", "hours; perpetuals"),
        _c("active", "boolean", "trading"),
        _c("listed_at", UTC_TS, "listing time, UTC, when the venue reports it"),
    ),
    ("exchange", "symbol"),
)

ALL_SCHEMAS = (CANDLES, FUNDING, OPEN_INTEREST, TRADES, OPTION_QUOTES, FUTURES_QUOTES, INSTRUMENTS)
