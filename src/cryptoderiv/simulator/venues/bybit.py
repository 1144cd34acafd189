"""Bybit v5 market API (``api.bybit.com/v5/market/*``) and public WebSocket (``stream.bybit.com/v5/public/*``).

Answers use Bybit's envelope ``{"retCode": 0, "retMsg": "OK", "result": ..., "retExtInfo": {}, "time": ...}``;
lists are newest first where Bybit does so (klines, funding history, open interest, trades). Numbers are
strings. Linear contracts count base units; options are USDT-settled and quoted in USDT with ``markIv`` and
greeks as decimals (vega per volatility point, theta per day). Categories: ``spot``, ``linear``, ``option``;
``inverse`` answers an empty list.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from typing import Any

import numpy as np

from cryptoderiv.simulator.calendar import MS_PER_HOUR, floor_ms
from cryptoderiv.simulator.instruments import Instrument, format_number
from cryptoderiv.simulator.market import TIMEFRAME_MS, Trades
from cryptoderiv.simulator.server import ApiError, ApiResult, Route, SimContext, WsSession
from cryptoderiv.simulator.venues.query import BadParamError, clamp_limit, int_param, records, required

logger = logging.getLogger(__name__)

HOST = "api.bybit.com"
WS_HOST = "stream.bybit.com"
INTERVALS = {
    "1": "1m",
    "3": "3m",
    "5": "5m",
    "15": "15m",
    "30": "30m",
    "60": "1h",
    "120": "2h",
    "240": "4h",
    "360": "6h",
    "720": "12h",
    "D": "1d",
}
OI_INTERVALS = {"5min": "5m", "15min": "15m", "30min": "30m", "1h": "1h", "4h": "4h", "1d": "1d"}
_CATEGORY_TYPE = {"spot": "spot", "linear": "linear", "option": "option"}


def fmt(value: float) -> str:
    """Bybit-style number string."""
    return format_number(float(value))


def envelope(result: Any, now: int) -> dict[str, Any]:
    """Bybit's success envelope."""
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now}


def error(code: int, msg: str, status: int = 200) -> ApiError:
    """A Bybit error answer (Bybit answers most errors with HTTP 200 and a non-zero ``retCode``)."""
    return ApiError(status, {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": 0})


class BybitApi:
    """Bybit v5 over the simulated market."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.market = ctx.market

    @staticmethod
    def rate_limited() -> dict[str, Any]:
        """Body of a 429."""
        return {"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "retExtInfo": {}, "time": 0}

    def _category(self, params: dict[str, str]) -> str:
        category = required(params, "category")
        if category not in ("spot", "linear", "inverse", "option"):
            raise error(10001, "params error: category")
        return category

    def _instrument(self, category: str, symbol: str) -> Instrument:
        inst = self.market.instrument("bybit", _CATEGORY_TYPE.get(category, category), symbol)
        if inst is None:
            raise error(10001, "params error: symbol invalid")
        return inst

    def _listed(self, category: str, now: int) -> list[Instrument]:
        return [i for i in self.market.instruments("bybit", now) if i.market_type == _CATEGORY_TYPE.get(category)]

    # --- reference data ----------------------------------------------------------------------------------

    def instruments_info(self, params: dict[str, str], now: int) -> dict[str, Any]:
        category = self._category(params)
        if params.get("status") in ("PreLaunch", "Delivering", "Closed") or category == "inverse":
            return {"category": category, "list": [], "nextPageCursor": ""}
        insts = self._listed(category, now)
        if "symbol" in params:
            insts = [i for i in insts if i.id == params["symbol"]]
        if "baseCoin" in params:
            insts = [i for i in insts if i.base == params["baseCoin"]]
        default_limit = 500
        limit = clamp_limit(int_param(params, "limit"), default_limit, 1000)
        offset = int(params.get("cursor") or 0)
        page = insts[offset : offset + limit]
        cursor = str(offset + limit) if offset + limit < len(insts) and category != "spot" else ""
        return {"category": category, "list": [self._instrument_info(i) for i in page], "nextPageCursor": cursor}

    def _instrument_info(self, inst: Instrument) -> dict[str, Any]:
        if inst.market_type == "spot":
            return {
                "symbol": inst.id,
                "baseCoin": inst.base,
                "quoteCoin": inst.quote,
                "innovation": "0",
                "status": "Trading",
                "marginTrading": "utaOnly",
                "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": fmt(inst.lot_size),
                    "quotePrecision": "0.00000001",
                    "minOrderQty": fmt(inst.lot_size),
                    "maxOrderQty": "8000",
                    "minOrderAmt": "1",
                    "maxOrderAmt": "8000000",
                },
                "priceFilter": {"tickSize": fmt(inst.tick_size)},
                "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
            }
        price_filter = {"minPrice": fmt(inst.tick_size), "maxPrice": "1999999", "tickSize": fmt(inst.tick_size)}
        if inst.market_type == "linear":
            return {
                "symbol": inst.id,
                "contractType": "LinearPerpetual",
                "status": "Trading",
                "baseCoin": inst.base,
                "quoteCoin": "USDT",
                "launchTime": str(inst.listed_ms),
                "deliveryTime": "0",
                "deliveryFeeRate": "",
                "priceScale": str(len(fmt(inst.tick_size).split(".")[-1]) if "." in fmt(inst.tick_size) else 0),
                "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
                "priceFilter": price_filter,
                "lotSizeFilter": {
                    "maxOrderQty": "1190",
                    "minOrderQty": fmt(inst.lot_size),
                    "qtyStep": fmt(inst.lot_size),
                    "postOnlyMaxOrderQty": "1190",
                    "maxMktOrderQty": "500",
                    "minNotionalValue": "5",
                },
                "unifiedMarginTrade": True,
                "fundingInterval": 480,
                "settleCoin": "USDT",
                "copyTrading": "both",
                "upperFundingRate": "0.003",
                "lowerFundingRate": "-0.003",
                "isPreListing": False,
            }
        return {
            "symbol": inst.id,
            "optionsType": "Call" if inst.option_type == "call" else "Put",
            "status": "Trading",
            "baseCoin": inst.base,
            "quoteCoin": "USDT",
            "settleCoin": "USDT",
            "launchTime": str(inst.listed_ms),
            "deliveryTime": str(inst.expiry_ms),
            "deliveryFeeRate": "0.00015",
            "priceFilter": price_filter,
            "lotSizeFilter": {"maxOrderQty": "500", "minOrderQty": fmt(inst.lot_size), "qtyStep": fmt(inst.lot_size)},
            "displayName": "",
        }

    # --- market data -------------------------------------------------------------------------------------

    def kline(self, params: dict[str, str], now: int) -> dict[str, Any]:
        category = self._category(params)
        inst = self._instrument(category, required(params, "symbol"))
        interval = INTERVALS.get(required(params, "interval"))
        if interval is None:
            raise error(10001, "params error: interval invalid")
        limit = clamp_limit(int_param(params, "limit"), 200, 1000)
        start, end = int_param(params, "start"), int_param(params, "end")
        tf = TIMEFRAME_MS[interval]
        if start is not None and end is None:
            lo, hi = start, start + (limit - 1) * tf
        else:
            hi = min(end if end is not None else now, now)
            lo = start if start is not None else floor_ms(hi, tf) - (limit - 1) * tf
        candles = self.market.candles(inst, interval, lo, hi, now_ms=now)
        n = min(len(candles), limit)
        rows = range(0, n) if (start is not None and end is None) else range(len(candles) - n, len(candles))
        data = [
            [
                str(int(candles.ts[i])),
                fmt(candles.open[i]),
                fmt(candles.high[i]),
                fmt(candles.low[i]),
                fmt(candles.close[i]),
                fmt(candles.volume[i]),
                fmt(candles.quote_volume[i]),
            ]
            for i in rows
        ]
        data.reverse()
        return {"symbol": inst.id, "category": category, "list": data}

    def _ticker(self, inst: Instrument, now: int) -> dict[str, Any]:
        s = self.market.stats_24h(inst, now)
        bid, bid_size, ask, ask_size = self.market.top_of_book(inst, now)
        out = {
            "symbol": inst.id,
            "bid1Price": fmt(bid),
            "bid1Size": fmt(bid_size),
            "ask1Price": fmt(ask),
            "ask1Size": fmt(ask_size),
            "lastPrice": fmt(s["last"]),
            "prevPrice24h": fmt(s["open"]),
            "price24hPcnt": fmt(round(s["last"] / s["open"] - 1.0, 6)),
            "highPrice24h": fmt(s["high"]),
            "lowPrice24h": fmt(s["low"]),
            "turnover24h": fmt(s["quote_volume"]),
            "volume24h": fmt(s["volume"]),
        }
        index = round(self.market.index_price(inst.base, now), 8)
        if inst.market_type == "spot":
            out["usdIndexPrice"] = fmt(index)
            return out
        step = 8 * MS_PER_HOUR
        oi = float(self.market.open_interest(inst, now)[0])
        mark = round(self.market.mark_price(inst, now), 2)
        prev_1h = self.market.candles(inst, "1m", now - MS_PER_HOUR, now - MS_PER_HOUR, now_ms=now)
        out.update(
            indexPrice=fmt(index),
            markPrice=fmt(mark),
            prevPrice1h=fmt(prev_1h.open[0]) if len(prev_1h) else fmt(s["last"]),
            openInterest=fmt(oi),
            openInterestValue=fmt(round(oi * mark, 2)),
            fundingRate=fmt(self.market.predicted_funding(inst, now)),
            nextFundingTime=str(floor_ms(now, step) + step),
            fundingIntervalHour="8",
            predictedDeliveryPrice="",
            basisRate="",
            deliveryFeeRate="",
            deliveryTime="0",
            basis="",
        )
        return out

    def _option_tickers(self, base: str, now: int, ws: bool = False) -> list[dict[str, Any]]:
        quotes = self.market.option_quotes("bybit", base, now)
        out = []
        for row in records(quotes):
            has_bid = not math.isnan(row.bid)
            bid_iv = fmt(round(float(row.bid_iv), 4)) if has_bid and not math.isnan(row.bid_iv) else "0"
            ask_iv = fmt(round(float(row.ask_iv), 4)) if not math.isnan(row.ask_iv) else "0"
            tick = 5.0 if base == "BTC" else 0.1
            last = max(round(round(float(row.mark) / tick) * tick, 4), tick)
            record = {
                "symbol": row.id,
                "lastPrice": fmt(last),
                "highPrice24h": fmt(last),
                "lowPrice24h": fmt(last),
                "markPrice": fmt(row.mark),
                "indexPrice": fmt(round(float(row.index_price), 2)),
                "underlyingPrice": fmt(round(float(row.forward), 2)),
                "openInterest": fmt(row.open_interest),
                "turnover24h": fmt(round(float(row.volume_24h * row.index_price), 4)),
                "volume24h": fmt(row.volume_24h),
                "totalVolume": fmt(round(float(row.open_interest) * 3)),
                "totalTurnover": fmt(round(float(row.open_interest * row.index_price) * 3)),
                "delta": fmt(round(float(row.delta), 8)),
                "gamma": fmt(round(float(row.gamma), 8)),
                "vega": fmt(round(float(row.vega), 8)),
                "theta": fmt(round(float(row.theta), 8)),
                "predictedDeliveryPrice": "0",
                "change24h": "0",
            }
            if ws:
                record.update(
                    bidPrice=fmt(row.bid) if has_bid else "0",
                    bidSize=fmt(row.bid_size),
                    bidIv=bid_iv,
                    askPrice=fmt(row.ask),
                    askSize=fmt(row.ask_size),
                    askIv=ask_iv,
                    markPriceIv=fmt(round(float(row.iv), 4)),
                )
            else:
                record.update(
                    bid1Price=fmt(row.bid) if has_bid else "0",
                    bid1Size=fmt(row.bid_size),
                    bid1Iv=bid_iv,
                    ask1Price=fmt(row.ask),
                    ask1Size=fmt(row.ask_size),
                    ask1Iv=ask_iv,
                    markIv=fmt(round(float(row.iv), 4)),
                )
            out.append(record)
        return out

    def tickers(self, params: dict[str, str], now: int) -> dict[str, Any]:
        category = self._category(params)
        if category == "inverse":
            return {"category": category, "list": []}
        if category == "option":
            symbol = params.get("symbol")
            base = params.get("baseCoin") or (symbol.split("-")[0] if symbol else None)
            if base is None:
                raise error(10001, "params error: symbol or baseCoin is required for options")
            if base not in self.market.params.heston:
                return {"category": category, "list": []}
            tickers = self._option_tickers(base, now)
            if symbol:
                tickers = [r for r in tickers if r["symbol"] == symbol]
            if "expDate" in params:
                tickers = [r for r in tickers if r["symbol"].split("-")[1] == params["expDate"]]
            return {"category": category, "list": tickers}
        insts = [self._instrument(category, params["symbol"])] if "symbol" in params else self._listed(category, now)
        return {"category": category, "list": [self._ticker(i, now) for i in insts]}

    def orderbook(self, params: dict[str, str], now: int) -> dict[str, Any]:
        category = self._category(params)
        inst = self._instrument(category, required(params, "symbol"))
        limit = clamp_limit(int_param(params, "limit"), 25, 500)
        bid, bid_size, ask, ask_size = self.market.top_of_book(inst, now)
        tick = inst.tick_size
        return {
            "s": inst.id,
            "b": [[fmt(round(bid - i * tick, 8)), fmt(bid_size)] for i in range(limit)],
            "a": [[fmt(round(ask + i * tick, 8)), fmt(ask_size)] for i in range(limit)],
            "ts": now,
            "u": now,
            "seq": now,
            "cts": now,
        }

    def _trade_payload(self, inst: Instrument, trades: Trades, ws: bool = False) -> list[dict[str, Any]]:
        out = []
        for i in range(len(trades)):
            exec_id = self.market.execution_uuid(inst, int(trades.id[i]))
            side = "Buy" if trades.buy[i] else "Sell"
            if ws:
                out.append(
                    {
                        "T": int(trades.ts[i]),
                        "s": inst.id,
                        "S": side,
                        "v": fmt(trades.base_amount[i]),
                        "p": fmt(trades.price[i]),
                        "L": "PlusTick",
                        "i": exec_id,
                        "BT": False,
                        "RPI": False,
                        "seq": int(trades.id[i]),
                    }
                )
            else:
                out.append(
                    {
                        "execId": exec_id,
                        "symbol": inst.id,
                        "price": fmt(trades.price[i]),
                        "size": fmt(trades.base_amount[i]),
                        "side": side,
                        "time": str(int(trades.ts[i])),
                        "isBlockTrade": False,
                        "isRPITrade": False,
                        "seq": str(int(trades.id[i])),
                    }
                )
        return out

    def recent_trade(self, params: dict[str, str], now: int) -> dict[str, Any]:
        category = self._category(params)
        if category == "option":
            return {"category": category, "list": []}
        inst = self._instrument(category, required(params, "symbol"))
        limit = clamp_limit(
            int_param(params, "limit"), 60 if category == "spot" else 500, 60 if category == "spot" else 1000
        )
        trades = self.market.trades(inst, now - MS_PER_HOUR, now)
        trades = trades.select(slice(max(len(trades) - limit, 0), len(trades)))
        rows = self._trade_payload(inst, trades)
        rows.reverse()
        return {"category": category, "list": rows}

    def funding_history(self, params: dict[str, str], now: int) -> dict[str, Any]:
        category = self._category(params)
        inst = self._instrument(category, required(params, "symbol"))
        if inst.kind != "perpetual":
            raise error(10001, "params error: symbol is not a perpetual")
        limit = clamp_limit(int_param(params, "limit"), 200, 200)
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        if start is not None and end is None:
            raise error(10001, "params error: endTime is required when startTime is passed")
        hi = min(end if end is not None else now, now)
        lo = start if start is not None else hi - limit * 8 * MS_PER_HOUR
        rows = self.market.funding(inst, lo, hi, now)
        idx = list(range(max(len(rows) - limit, 0), len(rows)))
        idx.reverse()
        return {
            "category": category,
            "list": [
                {"symbol": inst.id, "fundingRate": fmt(rows.rate[i]), "fundingRateTimestamp": str(int(rows.ts[i]))}
                for i in idx
            ],
        }

    def open_interest(self, params: dict[str, str], now: int) -> dict[str, Any]:
        category = self._category(params)
        inst = self._instrument(category, required(params, "symbol"))
        interval = OI_INTERVALS.get(required(params, "intervalTime"))
        if interval is None or inst.kind == "spot":
            raise error(10001, "params error: intervalTime invalid")
        step = TIMEFRAME_MS[interval]
        limit = clamp_limit(int_param(params, "limit"), 50, 200)
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        hi = floor_ms(min(end if end is not None else now, now), step)
        cursor = params.get("cursor")
        if cursor:
            hi = min(hi, int(cursor) - step)
        lo = -(-start // step) * step if start is not None else hi - (limit - 1) * step
        ts = np.arange(max(lo, hi - (limit - 1) * step), hi + 1, step, dtype=np.int64)[::-1]
        oi = self.market.open_interest(inst, ts) if len(ts) else np.empty(0)
        more = len(ts) == limit and (start is None or ts[-1] - step >= lo)
        return {
            "symbol": inst.id,
            "category": category,
            "list": [{"openInterest": fmt(oi[i]), "timestamp": str(int(ts[i]))} for i in range(len(ts))],
            "nextPageCursor": str(int(ts[-1])) if more else "",
        }

    # --- WebSocket ---------------------------------------------------------------------------------------

    async def ws_message(self, session: WsSession, message: Any) -> None:
        """Answer ``subscribe``, ``unsubscribe`` and ``ping`` operations."""
        if not isinstance(message, dict):
            return
        op = message.get("op")
        req_id = message.get("req_id")
        conn_id = str(uuid.UUID(int=id(session) & ((1 << 128) - 1)))
        if op == "ping":
            await session.send(
                {"success": True, "ret_msg": "pong", "conn_id": conn_id, "req_id": req_id, "op": "ping"}, data=False
            )
            return
        if op in ("subscribe", "unsubscribe"):
            failed = []
            if op == "subscribe":
                failed = [t for t in message.get("args", []) if not self._start_topic(session, str(t))]
            await session.send(
                {
                    "success": not failed,
                    "ret_msg": "" if not failed else f"invalid topics {failed}",
                    "conn_id": conn_id,
                    "req_id": req_id,
                    "op": op,
                },
                data=False,
            )

    def _start_topic(self, session: WsSession, topic: str) -> bool:
        category = session.path.rsplit("/", 1)[-1]
        channel, _, symbol = topic.partition(".")
        inst = self.market.instrument("bybit", _CATEGORY_TYPE.get(category, ""), symbol)
        if inst is None:
            return False
        if channel == "tickers":
            session.spawn(self._push_ticker(session, topic, inst))
            return True
        if channel == "publicTrade" and inst.kind != "option":
            session.spawn(self._push_trades(session, topic, inst))
            return True
        return False

    async def _push_ticker(self, session: WsSession, topic: str, inst: Instrument) -> None:
        while True:
            now = self.ctx.now_ms()
            if inst.kind == "option":
                data = next((r for r in self._option_tickers(inst.base, now, ws=True) if r["symbol"] == inst.id), None)
                if data is None:
                    return
            else:
                data = self._ticker(inst, now)
            message = {"topic": topic, "type": "snapshot", "data": data, "cs": now, "ts": now}
            if not await session.send(message):
                return
            await asyncio.sleep(self.ctx.ws_interval_s)

    async def _push_trades(self, session: WsSession, topic: str, inst: Instrument) -> None:
        async for now, trades in self.ctx.new_trades(inst):
            message = {
                "topic": topic,
                "type": "snapshot",
                "ts": now,
                "data": self._trade_payload(inst, trades, ws=True),
            }
            if not await session.send(message):
                return


def routes(ctx: SimContext) -> list[Route]:
    """Bybit REST and WebSocket routes."""
    api = BybitApi(ctx)
    out: list[Route] = []

    def add(path: str, handler: Any) -> None:
        def rest(params: dict[str, str], now: int, handler: Any = handler) -> ApiResult:
            try:
                return ApiResult(envelope(handler(params, now), now))
            except BadParamError as exc:
                raise error(10001, f"params error: {exc.name} {exc.reason}") from exc

        out.append(Route("bybit", HOST, path, rest=rest, rate_limit_payload=api.rate_limited))

    add("/v5/market/instruments-info", api.instruments_info)
    add("/v5/market/kline", api.kline)
    add("/v5/market/tickers", api.tickers)
    add("/v5/market/orderbook", api.orderbook)
    add("/v5/market/recent-trade", api.recent_trade)
    add("/v5/market/funding/history", api.funding_history)
    add("/v5/market/open-interest", api.open_interest)
    add("/v5/market/time", lambda p, n: {"timeSecond": str(n // 1000), "timeNano": str(n * 1_000_000)})
    for category in ("spot", "linear", "option", "inverse"):
        out.append(Route("bybit", WS_HOST, f"/v5/public/{category}", ws_message=api.ws_message))
    return out
