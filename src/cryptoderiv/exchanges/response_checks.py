"""Shape checks of raw exchange answers, run inside ccxt before its parsers see them.

ccxt turns a 2xx body that is not JSON into a plain string and lets the parsers read ``None`` for missing
fields; a truncated or partial answer would then come back as an empty or partial list, indistinguishable
from "no data". :func:`check_response` rejects such answers with
:class:`~cryptoderiv.exchanges.errors.MalformedResponse` so the retry layer asks again.

Each endpoint the library uses has a :class:`Shape`: where its records are and which fields (or array
length) every record must have. Endpoints without a shape only get the envelope check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptoderiv.exchanges.errors import MalformedResponse


@dataclass(frozen=True)
class Shape:
    """Expected shape of an endpoint's answer.

    Attributes
    ----------
    records : tuple of str
        Keys leading from the top of the answer to the records (``()``: the answer itself).
    fields : tuple of str
        Keys every dict record must have.
    row_length : int or None
        Length every array record must have (no null element allowed).
    columns : tuple of str
        For a dict of parallel arrays (Deribit chart data): keys that must be arrays of one length, no nulls.
    single : bool
        The records node is one dict rather than a list.
    extra : callable or None
        A further check of one record; returns a reason or None.
    whole : callable or None
        A further check of the whole answer; returns a reason or None.
    """

    records: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    row_length: int | None = None
    columns: tuple[str, ...] = ()
    single: bool = False
    extra: Callable[[dict[str, Any]], str | None] | None = None
    whole: Callable[[Any], str | None] | None = None


def _deribit_option_fields(record: dict[str, Any]) -> str | None:
    name = str(record.get("instrument_name", ""))
    if name.count("-") == 3:
        for key in ("mark_iv", "underlying_price", "open_interest", "bid_price", "ask_price"):
            if key not in record:
                return f"option record without {key}"
    return None


def _deribit_contract_fields(record: dict[str, Any]) -> str | None:
    if record.get("kind") != "spot":
        for key in ("expiration_timestamp", "contract_size", "settlement_currency"):
            if key not in record:
                return f"contract record without {key}"
        if record.get("kind") == "option":
            for key in ("strike", "option_type"):
                if key not in record:
                    return f"option record without {key}"
    return None


def _deribit_ticker(record: dict[str, Any]) -> str | None:
    if str(record.get("instrument_name", "")).count("-") == 3:
        for key in ("greeks", "mark_iv", "bid_iv", "ask_iv", "underlying_price", "index_price", "open_interest"):
            if key not in record:
                return f"option ticker without {key}"
    return None


_BYBIT_INSTRUMENT_FIELDS = {
    "linear": ("contractType", "settleCoin", "deliveryTime", "fundingInterval", "leverageFilter"),
    "option": ("optionsType", "settleCoin", "deliveryTime"),
}


def _bybit_instruments(response: Any) -> str | None:
    result = response.get("result") or {}
    required = _BYBIT_INSTRUMENT_FIELDS.get(str(result.get("category")), ())
    for i, record in enumerate(result.get("list") or []):
        for key in required:
            if key not in record:
                return f"{result.get('category')} record {i} lacks {key!r}"
    return None


def _bybit_option_ticker(record: dict[str, Any]) -> str | None:
    if str(record.get("symbol", "")).count("-") >= 3:
        for key in (
            "markIv",
            "markPrice",
            "underlyingPrice",
            "indexPrice",
            "delta",
            "gamma",
            "vega",
            "theta",
            "bid1Price",
            "ask1Price",
            "openInterest",
        ):
            if key not in record:
                return f"option ticker without {key}"
    return None


SHAPES: dict[str, Shape] = {
    # Deribit
    "/api/v2/public/get_tradingview_chart_data": Shape(
        ("result",), columns=("ticks", "open", "high", "low", "close", "volume"), single=True, fields=("status",)
    ),
    "/api/v2/public/get_funding_rate_history": Shape(("result",), ("timestamp", "interest_1h", "interest_8h")),
    "/api/v2/public/get_instruments": Shape(
        ("result",),
        ("instrument_name", "kind", "base_currency", "counter_currency", "tick_size", "min_trade_amount"),
        extra=_deribit_contract_fields,
    ),
    "/api/v2/public/get_currencies": Shape(("result",), ("currency",)),
    "/api/v2/public/get_book_summary_by_currency": Shape(
        ("result",), ("instrument_name", "mark_price", "creation_timestamp", "volume"), extra=_deribit_option_fields
    ),
    "/api/v2/public/get_book_summary_by_instrument": Shape(
        ("result",), ("instrument_name", "mark_price", "creation_timestamp"), extra=_deribit_option_fields
    ),
    "/api/v2/public/ticker": Shape(
        ("result",),
        ("instrument_name", "timestamp", "mark_price", "best_bid_price", "best_ask_price"),
        single=True,
        extra=_deribit_ticker,
    ),
    "/api/v2/public/get_last_trades_by_instrument": Shape(
        ("result", "trades"), ("trade_id", "timestamp", "price", "amount", "direction", "instrument_name")
    ),
    "/api/v2/public/get_last_trades_by_instrument_and_time": Shape(
        ("result", "trades"), ("trade_id", "timestamp", "price", "amount", "direction", "instrument_name")
    ),
    # Binance spot and USD-M
    "/api/v3/klines": Shape(row_length=12),
    "/fapi/v1/klines": Shape(row_length=12),
    "/api/v3/exchangeInfo": Shape(("symbols",), ("symbol", "status", "baseAsset", "quoteAsset", "filters")),
    "/fapi/v1/exchangeInfo": Shape(
        ("symbols",),
        ("symbol", "status", "baseAsset", "quoteAsset", "marginAsset", "contractType", "deliveryDate", "filters"),
    ),
    "/fapi/v1/fundingRate": Shape((), ("symbol", "fundingTime", "fundingRate")),
    "/fapi/v1/openInterest": Shape((), ("openInterest", "symbol", "time"), single=True),
    "/futures/data/openInterestHist": Shape((), ("symbol", "sumOpenInterest", "sumOpenInterestValue", "timestamp")),
    "/api/v3/aggTrades": Shape((), ("a", "p", "q", "T", "m")),
    "/fapi/v1/aggTrades": Shape((), ("a", "p", "q", "T", "m")),
    "/fapi/v1/premiumIndex": Shape((), ("symbol", "markPrice", "indexPrice", "time")),
    "/fapi/v1/ticker/bookTicker": Shape((), ("symbol", "bidPrice", "askPrice")),
    # Bybit v5
    "/v5/market/kline": Shape(("result", "list"), row_length=7),
    "/v5/market/funding/history": Shape(("result", "list"), ("symbol", "fundingRate", "fundingRateTimestamp")),
    "/v5/market/instruments-info": Shape(
        ("result", "list"),
        ("symbol", "baseCoin", "quoteCoin", "status", "lotSizeFilter", "priceFilter"),
        whole=_bybit_instruments,
    ),
    "/v5/market/tickers": Shape(("result", "list"), ("symbol", "lastPrice"), extra=_bybit_option_ticker),
    "/v5/market/open-interest": Shape(("result", "list"), ("openInterest", "timestamp")),
    "/v5/market/recent-trade": Shape(("result", "list"), ("execId", "price", "size", "side", "time")),
}


def endpoint_path(url: str) -> str:
    """The API path of a request URL, with a simulator's host prefix removed.

    ``http://127.0.0.1:1234/fapi.binance.com/fapi/v1/klines?x=1`` and ``https://fapi.binance.com/fapi/v1/klines``
    both give ``/fapi/v1/klines``.
    """
    path = urlsplit(url).path
    first, _, rest = path.lstrip("/").partition("/")
    if "." in first:
        return "/" + rest
    return path


def _fail(url: str, reason: str) -> MalformedResponse:
    return MalformedResponse(f"malformed answer from {endpoint_path(url)}: {reason}")


def _envelope_error(path: str, response: Any) -> str | None:
    if path.startswith("/api/v2/"):
        if not isinstance(response, dict) or ("result" not in response and "error" not in response):
            return "JSON-RPC answer without result"
    elif path.startswith("/v5/"):
        if not isinstance(response, dict) or "retCode" not in response:
            return "answer without retCode"
        if response.get("retCode") == 0 and not isinstance(response.get("result"), dict):
            return "answer without result"
    return None


def check_response(code: int, url: str, body: str | None, response: Any) -> None:
    """Reject a 2xx answer that is not JSON or lacks fields its endpoint must have.

    Parameters
    ----------
    code : int
        HTTP status.
    url : str
        Request URL.
    body : str or None
        Raw body.
    response : object
        The body parsed by ccxt (None when it is not JSON).

    Raises
    ------
    MalformedResponse
        If the answer must not be used.
    """
    if not 200 <= code < 300:
        return
    if response is None:
        if body:
            raise _fail(url, f"body is not JSON ({body[:60]!r})")
        return
    path = endpoint_path(url)
    reason = _envelope_error(path, response)
    if reason is not None:
        raise _fail(url, reason)
    if isinstance(response, dict) and (response.get("error") is not None or response.get("retCode", 0) != 0):
        return  # a venue error: ccxt's own handler maps it
    shape = SHAPES.get(path)
    if shape is not None:
        reason = _check_shape(shape, response)
        if reason is not None:
            raise _fail(url, reason)


def _check_shape(shape: Shape, response: Any) -> str | None:
    if shape.whole is not None:
        reason = shape.whole(response)
        if reason is not None:
            return reason
    node = response
    for key in shape.records:
        if not isinstance(node, dict) or key not in node:
            return f"no {'.'.join(shape.records)}"
        node = node[key]
    if shape.single:
        if not isinstance(node, dict):
            return "record is not an object"
        return _check_record(shape, node, 0)
    if isinstance(node, dict) and not shape.records:
        node = [node]
    if not isinstance(node, list):
        return "records are not a list"
    for i, record in enumerate(node):
        reason = _check_record(shape, record, i)
        if reason is not None:
            return reason
    return None


def _check_record(shape: Shape, record: Any, i: int) -> str | None:
    if shape.row_length is not None:
        if not isinstance(record, list) or len(record) != shape.row_length or any(x is None for x in record):
            return f"row {i} is not a complete array of {shape.row_length}"
        return None
    if not isinstance(record, dict):
        return f"record {i} is not an object"
    for key in shape.fields:
        if key not in record:
            return f"record {i} lacks {key!r}"
    if shape.columns:
        lengths = set()
        for key in shape.columns:
            column = record.get(key)
            if not isinstance(column, list) or any(x is None for x in column):
                return f"column {key!r} missing or with nulls"
            lengths.add(len(column))
        if len(lengths) > 1:
            return f"columns of unequal lengths {sorted(lengths)}"
    if shape.extra is not None:
        return shape.extra(record)
    return None
