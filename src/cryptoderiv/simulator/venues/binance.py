"""Binance spot (``api.binance.com/api/v3``) and USD-M futures (``fapi.binance.com/fapi/v1``,
``fapi.binance.com/futures/data``) REST APIs and their WebSocket streams (``stream.binance.com``,
``fstream.binance.com``).

Numbers are sent as strings, as Binance does (shortest exact decimal text). Errors are ``{"code": -11xx,
"msg": ...}`` with HTTP 400. USD-M contracts count base units (``openInterest``, ``qty``); funding is paid every
8 h (``fundingRate`` decimal per interval). ``dapi.binance.com/dapi/v1/exchangeInfo`` answers an empty list so
that an un-narrowed ``load_markets`` works.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np

from cryptoderiv.simulator.calendar import MS_PER_HOUR, floor_ms
from cryptoderiv.simulator.instruments import Instrument, binance_contract_type, decimals_of, format_number
from cryptoderiv.simulator.market import TIMEFRAME_MS, Trades
from cryptoderiv.simulator.server import ApiError, ApiResult, Route, SimContext, WsSession
from cryptoderiv.simulator.venues.query import BadParamError, clamp_limit, int_param, required

logger = logging.getLogger(__name__)

SPOT_HOST = "api.binance.com"
FAPI_HOST = "fapi.binance.com"
DAPI_HOST = "dapi.binance.com"
SPOT_WS_HOST = "stream.binance.com"
FAPI_WS_HOST = "fstream.binance.com"
INTERVALS = {"1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d"}
OI_PERIODS = {"5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d"}


def fmt(value: float) -> str:
    """Binance-style number string."""
    return format_number(float(value))


def error(code: int, msg: str, status: int = 400) -> ApiError:
    """A Binance error answer."""
    return ApiError(status, {"code": code, "msg": msg})


class BinanceApi:
    """Binance spot and USD-M futures over the simulated market."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.market = ctx.market

    @staticmethod
    def rate_limited() -> dict[str, Any]:
        """Body of a 429."""
        return {"code": -1003, "msg": "Too many requests; current limit is 6000 request weight per 1 MINUTE."}

    def _market_type(self, host: str) -> str:
        return "spot" if host in (SPOT_HOST, SPOT_WS_HOST) else "usdm"

    def _instrument(self, market_type: str, symbol: str, now: int, listed: bool = True) -> Instrument:
        inst = self.market.instrument("binance", market_type, symbol.upper())
        if inst is None or (listed and not inst.is_listed(now) and inst.kind != "future"):
            raise error(-1121, "Invalid symbol.")
        return inst

    # --- exchangeInfo ------------------------------------------------------------------------------------

    def exchange_info(self, host: str, now: int) -> dict[str, Any]:
        market_type = self._market_type(host)
        symbols = [
            self._symbol_info(i, now) for i in self.market.instruments("binance", now) if i.market_type == market_type
        ]
        info: dict[str, Any] = {
            "timezone": "UTC",
            "serverTime": now,
            "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}],
            "exchangeFilters": [],
            "symbols": symbols,
        }
        if market_type == "usdm":
            info["assets"] = [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}]
        return info

    def _symbol_info(self, inst: Instrument, now: int) -> dict[str, Any]:
        price_filter = {
            "filterType": "PRICE_FILTER",
            "minPrice": fmt(inst.tick_size),
            "maxPrice": "4529764",
            "tickSize": fmt(inst.tick_size),
        }
        lot_filter = {
            "filterType": "LOT_SIZE",
            "minQty": fmt(inst.lot_size),
            "maxQty": "9000",
            "stepSize": fmt(inst.lot_size),
        }
        if inst.market_type == "spot":
            return {
                "symbol": inst.id,
                "status": "TRADING",
                "baseAsset": inst.base,
                "baseAssetPrecision": 8,
                "quoteAsset": inst.quote,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": True,
                "ocoAllowed": True,
                "quoteOrderQtyMarketAllowed": True,
                "allowTrailingStop": True,
                "cancelReplaceAllowed": True,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": True,
                "filters": [
                    price_filter,
                    lot_filter,
                    {
                        "filterType": "NOTIONAL",
                        "minNotional": "5",
                        "applyMinToMarket": True,
                        "maxNotional": "9000000",
                        "applyMaxToMarket": False,
                        "avgPriceMins": 5,
                    },
                ],
                "permissions": [],
                "permissionSets": [["SPOT", "MARGIN"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
            }
        contract_type = "PERPETUAL" if inst.kind == "perpetual" else binance_contract_type(inst.expiry_ms or 0, now)
        return {
            "symbol": inst.id,
            "pair": f"{inst.base}USDT",
            "contractType": contract_type,
            "deliveryDate": inst.expiry_ms or 4_133_404_800_000,
            "onboardDate": inst.listed_ms,
            "status": "TRADING",
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": inst.base,
            "quoteAsset": "USDT",
            "marginAsset": "USDT",
            "pricePrecision": decimals_of(inst.tick_size),
            "quantityPrecision": decimals_of(inst.lot_size),
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": ["PoW"],
            "settlePlan": 0,
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "maxMoveOrderLimit": 10000,
            "filters": [
                price_filter,
                lot_filter,
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": fmt(inst.lot_size),
                    "maxQty": "120",
                    "stepSize": fmt(inst.lot_size),
                },
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MIN_NOTIONAL", "notional": "100"},
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": "1.0500",
                    "multiplierDown": "0.9500",
                    "multiplierDecimal": "4",
                },
            ],
            "orderTypes": [
                "LIMIT",
                "MARKET",
                "STOP",
                "STOP_MARKET",
                "TAKE_PROFIT",
                "TAKE_PROFIT_MARKET",
                "TRAILING_STOP_MARKET",
            ],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        }

    # --- klines ------------------------------------------------------------------------------------------

    def klines(self, host: str, params: dict[str, str], now: int) -> list[list[Any]]:
        inst = self._instrument(self._market_type(host), required(params, "symbol"), now)
        interval = required(params, "interval")
        if interval not in INTERVALS:
            raise error(-1120, "Invalid interval.")
        max_limit = 1000 if host == SPOT_HOST else 1500
        limit = clamp_limit(int_param(params, "limit"), 500, max_limit)
        start = int_param(params, "startTime")
        end = int_param(params, "endTime")
        tf = TIMEFRAME_MS[interval]
        if start is not None:
            lo, hi = start, start + (limit - 1) * tf + (tf - 1)
            if end is not None:
                hi = min(hi, end)
        else:
            hi = end if end is not None else now
            lo = floor_ms(hi, tf) - (limit - 1) * tf
        candles = self.market.candles(inst, interval, lo, hi, now_ms=now)
        n = min(len(candles), limit)
        sl = slice(0, n) if start is not None else slice(len(candles) - n, len(candles))
        out = []
        for i in range(*sl.indices(len(candles))):
            ts = int(candles.ts[i])
            out.append(
                [
                    ts,
                    fmt(candles.open[i]),
                    fmt(candles.high[i]),
                    fmt(candles.low[i]),
                    fmt(candles.close[i]),
                    fmt(candles.volume[i]),
                    ts + tf - 1,
                    fmt(candles.quote_volume[i]),
                    int(candles.count[i]),
                    fmt(candles.taker_buy_base[i]),
                    fmt(candles.taker_buy_quote[i]),
                    "0",
                ]
            )
        return out

    # --- tickers -----------------------------------------------------------------------------------------

    def ticker_24hr(self, inst: Instrument, now: int) -> dict[str, Any]:
        s = self.market.stats_24h(inst, now)
        change = s["last"] - s["open"]
        vwap = s["quote_volume"] / s["volume"] if s["volume"] else s["last"]
        trades = self.market.trades(inst, now - 60_000, now)
        last_qty = float(trades.base_amount[-1]) if len(trades) else 0.0
        out: dict[str, Any] = {
            "symbol": inst.id,
            "priceChange": fmt(round(change, 8)),
            "priceChangePercent": fmt(round(change / s["open"] * 100, 3)),
            "weightedAvgPrice": fmt(round(vwap, 8)),
            "lastPrice": fmt(s["last"]),
            "lastQty": fmt(last_qty),
            "openPrice": fmt(s["open"]),
            "highPrice": fmt(s["high"]),
            "lowPrice": fmt(s["low"]),
            "volume": fmt(s["volume"]),
            "quoteVolume": fmt(s["quote_volume"]),
            "openTime": s["open_time"],
            "closeTime": now,
            "firstId": s["first_id"],
            "lastId": s["last_id"],
            "count": s["count"],
        }
        if inst.market_type == "spot":
            bid, bid_size, ask, ask_size = self.market.top_of_book(inst, now)
            out.update(
                prevClosePrice=fmt(s["open"]),
                bidPrice=fmt(bid),
                bidQty=fmt(bid_size),
                askPrice=fmt(ask),
                askQty=fmt(ask_size),
            )
        return out

    def ticker_24hr_route(self, host: str, params: dict[str, str], now: int) -> Any:
        market_type = self._market_type(host)
        if "symbol" in params:
            return self.ticker_24hr(self._instrument(market_type, params["symbol"], now), now)
        return [
            self.ticker_24hr(i, now) for i in self.market.instruments("binance", now) if i.market_type == market_type
        ]

    def book_ticker(self, host: str, params: dict[str, str], now: int) -> Any:
        market_type = self._market_type(host)

        def one(inst: Instrument) -> dict[str, Any]:
            bid, bid_size, ask, ask_size = self.market.top_of_book(inst, now)
            return {
                "symbol": inst.id,
                "bidPrice": fmt(bid),
                "bidQty": fmt(bid_size),
                "askPrice": fmt(ask),
                "askQty": fmt(ask_size),
                "time": now,
            }

        if "symbol" in params:
            return one(self._instrument(market_type, params["symbol"], now))
        return [one(i) for i in self.market.instruments("binance", now) if i.market_type == market_type]

    def depth(self, host: str, params: dict[str, str], now: int) -> dict[str, Any]:
        inst = self._instrument(self._market_type(host), required(params, "symbol"), now)
        limit = clamp_limit(int_param(params, "limit"), 100, 5000)
        bid, bid_size, ask, ask_size = self.market.top_of_book(inst, now)
        tick = inst.tick_size
        return {
            "lastUpdateId": now,
            "E": now,
            "T": now,
            "bids": [[fmt(round(bid - i * tick, 8)), fmt(bid_size)] for i in range(limit)],
            "asks": [[fmt(round(ask + i * tick, 8)), fmt(ask_size)] for i in range(limit)],
        }

    def premium_index(self, params: dict[str, str], now: int) -> Any:
        def one(inst: Instrument) -> dict[str, Any]:
            step = 8 * MS_PER_HOUR
            return {
                "symbol": inst.id,
                "markPrice": fmt(round(self.market.mark_price(inst, now), 8)),
                "indexPrice": fmt(round(self.market.index_price(inst.base, now), 8)),
                "estimatedSettlePrice": fmt(round(self.market.index_price(inst.base, now), 8)),
                "lastFundingRate": fmt(self.market.predicted_funding(inst, now)) if inst.kind == "perpetual" else "",
                "interestRate": "0.00010000",
                "nextFundingTime": floor_ms(now, step) + step if inst.kind == "perpetual" else 0,
                "time": now,
            }

        if "symbol" in params:
            return one(self._instrument("usdm", params["symbol"], now))
        return [one(i) for i in self.market.instruments("binance", now) if i.market_type == "usdm"]

    # --- trades ------------------------------------------------------------------------------------------

    def _agg_payload(self, inst: Instrument, trades: Trades) -> list[dict[str, Any]]:
        out = []
        for i in range(len(trades)):
            tid = int(trades.id[i])
            row: dict[str, Any] = {
                "a": tid,
                "p": fmt(trades.price[i]),
                "q": fmt(trades.base_amount[i]),
                "f": tid,
                "l": tid,
                "T": int(trades.ts[i]),
                "m": not bool(trades.buy[i]),
            }
            if inst.market_type == "spot":
                row["M"] = True
            out.append(row)
        return out

    def agg_trades(self, host: str, params: dict[str, str], now: int) -> list[dict[str, Any]]:
        inst = self._instrument(self._market_type(host), required(params, "symbol"), now)
        limit = clamp_limit(int_param(params, "limit"), 500, 1000)
        start, end, from_id = int_param(params, "startTime"), int_param(params, "endTime"), int_param(params, "fromId")
        if start is not None and end is not None and end - start > MS_PER_HOUR:
            raise error(-1127, "More than 1 hours between startTime and endTime.")
        if from_id is not None:
            day_start = self.market.trade_id_day_start(from_id)
            trades = self.market.trades(inst, day_start, min(now, day_start + 2 * 86_400_000))
            trades = trades.select(trades.id >= from_id)
            return self._agg_payload(inst, trades.select(slice(0, limit)))
        if start is None and end is None:
            trades = self.market.trades(inst, now - MS_PER_HOUR, now)
            return self._agg_payload(inst, trades.select(slice(max(len(trades) - limit, 0), len(trades))))
        if start is None:
            assert end is not None
            trades = self.market.trades(inst, end - MS_PER_HOUR, min(end, now))
            return self._agg_payload(inst, trades.select(slice(max(len(trades) - limit, 0), len(trades))))
        stop = min(end if end is not None else start + MS_PER_HOUR, now)
        trades = self.market.trades(inst, start, stop)
        return self._agg_payload(inst, trades.select(slice(0, limit)))

    def recent_trades(self, host: str, params: dict[str, str], now: int) -> list[dict[str, Any]]:
        inst = self._instrument(self._market_type(host), required(params, "symbol"), now)
        limit = clamp_limit(int_param(params, "limit"), 500, 1000)
        trades = self.market.trades(inst, now - MS_PER_HOUR, now)
        trades = trades.select(slice(max(len(trades) - limit, 0), len(trades)))
        return [
            {
                "id": int(trades.id[i]),
                "price": fmt(trades.price[i]),
                "qty": fmt(trades.base_amount[i]),
                "quoteQty": fmt(round(float(trades.price[i] * trades.base_amount[i]), 8)),
                "time": int(trades.ts[i]),
                "isBuyerMaker": not bool(trades.buy[i]),
                "isBestMatch": True,
            }
            for i in range(len(trades))
        ]

    # --- funding and open interest -----------------------------------------------------------------------

    def funding_rate(self, params: dict[str, str], now: int) -> list[dict[str, Any]]:
        limit = clamp_limit(int_param(params, "limit"), 100, 1000)
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        symbol = params.get("symbol")
        perps = (
            [self._instrument("usdm", symbol, now)]
            if symbol
            else [
                i for i in self.market.instruments("binance", now) if i.market_type == "usdm" and i.kind == "perpetual"
            ]
        )
        out: list[dict[str, Any]] = []
        for inst in perps:
            if inst.kind != "perpetual":
                return []
            step = 8 * MS_PER_HOUR
            if start is not None:
                lo, hi = start, min(end if end is not None else now, start + limit * step)
            else:
                hi = min(end if end is not None else now, now)
                lo = hi - limit * step
            rows = self.market.funding(inst, lo, hi, now)
            idx = range(min(len(rows), limit)) if start is not None else range(max(len(rows) - limit, 0), len(rows))
            out.extend(
                {
                    "symbol": inst.id,
                    "fundingTime": int(rows.ts[i]),
                    "fundingRate": f"{rows.rate[i]:.8f}",
                    "markPrice": fmt(round(float(rows.mark_price[i]), 8)),
                }
                for i in idx
            )
        return out

    def funding_info(self, params: dict[str, str], now: int) -> list[dict[str, Any]]:
        return [
            {
                "symbol": i.id,
                "adjustedFundingRateCap": "0.00300000",
                "adjustedFundingRateFloor": "-0.00300000",
                "fundingIntervalHours": 8,
                "disclaimer": False,
            }
            for i in self.market.instruments("binance", now)
            if i.market_type == "usdm" and i.kind == "perpetual"
        ]

    def open_interest(self, params: dict[str, str], now: int) -> dict[str, Any]:
        inst = self._instrument("usdm", required(params, "symbol"), now)
        return {"openInterest": fmt(float(self.market.open_interest(inst, now)[0])), "symbol": inst.id, "time": now}

    def open_interest_hist(self, params: dict[str, str], now: int) -> list[dict[str, Any]]:
        inst = self._instrument("usdm", required(params, "symbol"), now)
        period = required(params, "period")
        if period not in OI_PERIODS:
            raise error(-1120, "Invalid period.")
        step = TIMEFRAME_MS[period]
        limit = clamp_limit(int_param(params, "limit"), 30, 500)
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        oldest = floor_ms(now - 30 * 86_400_000, step) + step
        hi = floor_ms(min(end if end is not None else now, now), step)
        if start is not None:
            lo = max(-(-start // step) * step, oldest)
            ts = np.arange(lo, hi + 1, step, dtype=np.int64)[:limit]
        else:
            ts = np.arange(hi - (limit - 1) * step, hi + 1, step, dtype=np.int64)
            ts = ts[ts >= oldest]
        if len(ts) == 0:
            return []
        oi = self.market.open_interest(inst, ts)
        index = np.array([self.market.mark_price(inst, int(t)) for t in ts.tolist()])
        return [
            {
                "symbol": inst.id,
                "sumOpenInterest": fmt(oi[i]),
                "sumOpenInterestValue": fmt(round(float(oi[i] * index[i]), 8)),
                "CMCCirculatingSupply": "19800000",
                "timestamp": int(ts[i]),
            }
            for i in range(len(ts))
        ]

    # --- WebSocket ---------------------------------------------------------------------------------------

    async def ws_message(self, session: WsSession, message: Any) -> None:
        """Answer SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS."""
        if not isinstance(message, dict):
            await session.send({"error": {"code": 2, "msg": "Invalid request"}}, data=False)
            return
        method = message.get("method")
        request_id = message.get("id")
        if method == "SUBSCRIBE":
            for stream in message.get("params", []):
                self._start_stream(session, str(stream))
            await session.send({"result": None, "id": request_id}, data=False)
        elif method in ("UNSUBSCRIBE", "SET_PROPERTY"):
            await session.send({"result": None, "id": request_id}, data=False)
        elif method == "LIST_SUBSCRIPTIONS":
            await session.send({"result": [], "id": request_id}, data=False)
        else:
            await session.send(
                {"error": {"code": 2, "msg": f"Invalid request: unknown method {method}"}, "id": request_id}, data=False
            )

    def _start_stream(self, session: WsSession, stream: str) -> None:
        market_type = self._market_type(session.host)
        symbol, _, channel = stream.partition("@")
        inst = self.market.instrument("binance", market_type, symbol.upper())
        if inst is None:
            return
        channel = channel.split("@")[0]
        if channel in ("ticker", "miniTicker", "bookTicker", "markPrice"):
            session.spawn(self._push_ticker(session, inst, channel))
        elif channel in ("trade", "aggTrade"):
            session.spawn(self._push_trades(session, inst, channel))

    def _ws_ticker(self, inst: Instrument, channel: str, now: int) -> dict[str, Any]:
        if channel == "bookTicker":
            bid, bid_size, ask, ask_size = self.market.top_of_book(inst, now)
            out = {"u": now, "s": inst.id, "b": fmt(bid), "B": fmt(bid_size), "a": fmt(ask), "A": fmt(ask_size)}
            if inst.market_type == "usdm":
                out.update(e="bookTicker", E=now, T=now)
            return out
        if channel == "markPrice":
            step = 8 * MS_PER_HOUR
            return {
                "e": "markPriceUpdate",
                "E": now,
                "s": inst.id,
                "p": fmt(round(self.market.mark_price(inst, now), 8)),
                "i": fmt(round(self.market.index_price(inst.base, now), 8)),
                "P": fmt(round(self.market.index_price(inst.base, now), 8)),
                "r": fmt(self.market.predicted_funding(inst, now)),
                "T": floor_ms(now, step) + step,
            }
        t = self.ticker_24hr(inst, now)
        if channel == "miniTicker":
            return {
                "e": "24hrMiniTicker",
                "E": now,
                "s": inst.id,
                "c": t["lastPrice"],
                "o": t["openPrice"],
                "h": t["highPrice"],
                "l": t["lowPrice"],
                "v": t["volume"],
                "q": t["quoteVolume"],
            }
        out = {
            "e": "24hrTicker",
            "E": now,
            "s": inst.id,
            "p": t["priceChange"],
            "P": t["priceChangePercent"],
            "w": t["weightedAvgPrice"],
            "c": t["lastPrice"],
            "Q": t["lastQty"],
            "o": t["openPrice"],
            "h": t["highPrice"],
            "l": t["lowPrice"],
            "v": t["volume"],
            "q": t["quoteVolume"],
            "O": t["openTime"],
            "C": t["closeTime"],
            "F": t["firstId"],
            "L": t["lastId"],
            "n": t["count"],
        }
        if inst.market_type == "spot":
            out.update(x=t["prevClosePrice"], b=t["bidPrice"], B=t["bidQty"], a=t["askPrice"], A=t["askQty"])
        return out

    async def _push_ticker(self, session: WsSession, inst: Instrument, channel: str) -> None:
        while True:
            if not await session.send(self._ws_ticker(inst, channel, self.ctx.now_ms())):
                return
            await asyncio.sleep(self.ctx.ws_interval_s)

    async def _push_trades(self, session: WsSession, inst: Instrument, channel: str) -> None:
        async for now, trades in self.ctx.new_trades(inst):
            for i in range(len(trades)):
                tid = int(trades.id[i])
                event: dict[str, Any] = {
                    "e": channel,
                    "E": now,
                    "s": inst.id,
                    "p": fmt(trades.price[i]),
                    "q": fmt(trades.base_amount[i]),
                    "T": int(trades.ts[i]),
                    "m": not bool(trades.buy[i]),
                }
                if channel == "aggTrade":
                    event.update(a=tid, f=tid, l=tid)
                else:
                    event["t"] = tid
                event.update(M=True) if inst.market_type == "spot" else event.update(X="MARKET")
                if not await session.send(event):
                    return


def routes(ctx: SimContext) -> list[Route]:
    """Binance REST and WebSocket routes."""
    api = BinanceApi(ctx)
    rl = api.rate_limited
    out: list[Route] = []

    def add(host: str, path: str, handler: Any) -> None:
        def rest(params: dict[str, str], now: int, handler: Any = handler, host: str = host) -> ApiResult:
            try:
                return ApiResult(handler(host, params, now))
            except BadParamError as exc:
                raise error(
                    -1102, f"Mandatory parameter '{exc.name}' was not sent, was empty/null, or malformed."
                ) from exc

        out.append(Route("binance", host, path, rest=rest, rate_limit_payload=rl))

    for host, prefix in ((SPOT_HOST, "/api/v3"), (FAPI_HOST, "/fapi/v1")):
        add(host, f"{prefix}/exchangeInfo", lambda h, p, n: api.exchange_info(h, n))
        add(host, f"{prefix}/klines", api.klines)
        add(host, f"{prefix}/ticker/24hr", api.ticker_24hr_route)
        add(host, f"{prefix}/ticker/bookTicker", api.book_ticker)
        add(host, f"{prefix}/depth", api.depth)
        add(host, f"{prefix}/aggTrades", api.agg_trades)
        add(host, f"{prefix}/trades", api.recent_trades)
        add(host, f"{prefix}/time", lambda h, p, n: {"serverTime": n})
        add(host, f"{prefix}/ping", lambda h, p, n: {})
    add(FAPI_HOST, "/fapi/v1/premiumIndex", lambda h, p, n: api.premium_index(p, n))
    add(FAPI_HOST, "/fapi/v1/fundingRate", lambda h, p, n: api.funding_rate(p, n))
    add(FAPI_HOST, "/fapi/v1/fundingInfo", lambda h, p, n: api.funding_info(p, n))
    add(FAPI_HOST, "/fapi/v1/openInterest", lambda h, p, n: api.open_interest(p, n))
    add(FAPI_HOST, "/futures/data/openInterestHist", lambda h, p, n: api.open_interest_hist(p, n))
    add(DAPI_HOST, "/dapi/v1/exchangeInfo", lambda h, p, n: {"timezone": "UTC", "serverTime": n, "symbols": []})
    for host in (SPOT_WS_HOST, FAPI_WS_HOST):
        for path in ("/ws", "/ws/", "/stream", "/stream/", "/public/ws", "/public/ws/", "/market/ws", "/market/ws/"):
            out.append(Route("binance", host, path, ws_message=api.ws_message))
    return out
