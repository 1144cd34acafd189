"""Deribit API v2 (public): REST under ``www.deribit.com/api/v2/public/`` and JSON-RPC over WebSocket.

REST answers use Deribit's JSON-RPC envelope (``{"jsonrpc": "2.0", "result": ..., "usIn": ...}``); errors are
``{"error": {"code", "message", "data"}}`` with HTTP 400. The WebSocket at ``www.deribit.com/ws/api/v2``
answers ``public/subscribe`` (channels ``ticker.<instrument>.<interval>`` and ``trades.<instrument>.<interval>``),
``public/unsubscribe``, ``public/test``, ``public/set_heartbeat`` and every REST method as a JSON-RPC call.

Units as on Deribit: inverse futures and perpetuals count USD (``amount``, open interest); options are quoted
in the base coin (``mark_price``, ``bid_price``), ``mark_iv``/``bid_iv``/``ask_iv`` in percent, ``vega`` in USD
per volatility point, ``theta`` in USD per day; ``interest_1h``/``interest_8h`` are decimals.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

import numpy as np
import pandas as pd

from cryptoderiv.simulator import instruments as ins
from cryptoderiv.simulator.calendar import MS_PER_HOUR, floor_ms
from cryptoderiv.simulator.instruments import Instrument
from cryptoderiv.simulator.market import Trades
from cryptoderiv.simulator.paths import stable_hash
from cryptoderiv.simulator.server import ApiError, ApiResult, Route, SimContext, WsSession
from cryptoderiv.simulator.venues.query import BadParamError, clamp_limit, int_param, records, required

logger = logging.getLogger(__name__)

HOST = "www.deribit.com"
PERPETUAL_EXPIRY = 32_503_708_800_000
RESOLUTIONS = {
    "1": "1m",
    "3": "3m",
    "5": "5m",
    "15": "15m",
    "30": "30m",
    "60": "1h",
    "120": "2h",
    "360": "6h",
    "720": "12h",
    "1D": "1d",
}
CURRENCIES = {"BTC": "Bitcoin", "ETH": "Ethereum", "USDC": "USD Coin"}


def envelope(result: Any, request_id: Any = None) -> dict[str, Any]:
    """Deribit's JSON-RPC success envelope."""
    us = int(time.time() * 1_000_000)
    out: dict[str, Any] = {
        "jsonrpc": "2.0",
        "result": result,
        "usIn": us,
        "usOut": us + 150,
        "usDiff": 150,
        "testnet": False,
    }
    if request_id is not None:
        out["id"] = request_id
    return out


def error_payload(code: int, message: str, reason: str = "", param: str = "", request_id: Any = None) -> dict[str, Any]:
    """Deribit's JSON-RPC error envelope."""
    out: dict[str, Any] = {
        "jsonrpc": "2.0",
        "error": {"code": code, "message": message, "data": {"reason": reason, "param": param}},
        "testnet": False,
        "usIn": 0,
        "usOut": 0,
        "usDiff": 0,
    }
    if request_id is not None:
        out["id"] = request_id
    return out


def _bad(param: str, reason: str) -> ApiError:
    return ApiError(400, error_payload(-32602, "Invalid params", reason, param))


def _none_if_nan(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


class DeribitApi:
    """Deribit's public API over the simulated market (and an optional replayed option chain)."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.market = ctx.market
        self.methods = {
            "get_time": self.get_time,
            "test": self.test,
            "status": self.status,
            "get_currencies": self.get_currencies,
            "get_instruments": self.get_instruments,
            "get_instrument": self.get_instrument,
            "get_index_price": self.get_index_price,
            "get_book_summary_by_currency": self.get_book_summary_by_currency,
            "get_book_summary_by_instrument": self.get_book_summary_by_instrument,
            "ticker": self.ticker,
            "get_order_book": self.get_order_book,
            "get_tradingview_chart_data": self.get_tradingview_chart_data,
            "get_last_trades_by_instrument": self.get_last_trades_by_instrument,
            "get_last_trades_by_instrument_and_time": self.get_last_trades_by_instrument_and_time,
            "get_funding_rate_history": self.get_funding_rate_history,
            "get_funding_rate_value": self.get_funding_rate_value,
        }

    # --- plumbing ----------------------------------------------------------------------------------------

    def rest(self, params: dict[str, str], now: int, method: str) -> ApiResult:
        """Answer ``public/<method>``."""
        handler = self.methods.get(method)
        if handler is None:
            raise ApiError(400, error_payload(-32601, "Method not found", method))
        try:
            return ApiResult(envelope(handler(params, now)))
        except BadParamError as exc:
            raise _bad(exc.name, exc.reason) from exc

    @staticmethod
    def rate_limited() -> dict[str, Any]:
        """Body of a 429."""
        return error_payload(10028, "too_many_requests")

    def _instrument(self, name: str) -> Instrument:
        inst = self._lookup(name)
        if inst is None:
            raise _bad(
                "instrument_name", "wrong format" if "-" not in name and "_" not in name else "instrument not found"
            )
        return inst

    def _lookup(self, name: str) -> Instrument | None:
        replay = self.ctx.replay
        if replay is not None and replay.has_instrument(name):
            return replay.instrument(name)
        for market_type in ("future", "option", "spot"):
            inst = self.market.instrument("deribit", market_type, name)
            if inst is not None:
                return inst
        return None

    def _options(self, currency: str, now: int) -> list[Instrument]:
        replay = self.ctx.replay
        if replay is not None and currency in replay.currencies:
            return replay.instruments(currency)
        return [i for i in self.market.instruments("deribit", now) if i.kind == "option" and i.base == currency]

    # --- reference data ----------------------------------------------------------------------------------

    def get_time(self, params: dict[str, str], now: int) -> int:
        return now

    def test(self, params: dict[str, str], now: int) -> dict[str, str]:
        return {"version": "1.2.26"}

    def status(self, params: dict[str, str], now: int) -> dict[str, Any]:
        return {"locked": "false", "locked_indices": []}

    def get_currencies(self, params: dict[str, str], now: int) -> list[dict[str, Any]]:
        return [
            {
                "currency": c,
                "currency_long": name,
                "coin_type": name.upper().replace(" ", "_"),
                "fee_precision": 4,
                "min_confirmations": 1,
                "min_withdrawal_fee": 0.0001,
                "withdrawal_fee": 0.0001,
                "withdrawal_priorities": [],
                "apr": 0.0,
            }
            for c, name in CURRENCIES.items()
        ]

    def instrument_payload(self, inst: Instrument) -> dict[str, Any]:
        """``get_instruments`` record of an instrument."""
        out: dict[str, Any] = {
            "tick_size": inst.tick_size,
            "tick_size_steps": [],
            "taker_commission": 0.0005,
            "maker_commission": 0.0,
            "rfq": False,
            "price_index": f"{inst.base.lower()}_usd",
            "min_trade_amount": inst.lot_size,
            "is_active": True,
            "instrument_name": inst.id,
            "instrument_id": stable_hash(inst.id) % 1_000_000,
            "creation_timestamp": inst.listed_ms,
            "contract_size": inst.contract_size,
            "block_trade_commission": 0.00025,
            "base_currency": inst.base,
            "expiration_timestamp": inst.expiry_ms or PERPETUAL_EXPIRY,
        }
        if inst.kind == "spot":
            out.update(kind="spot", quote_currency=inst.quote, counter_currency=inst.quote, taker_commission=0.0)
            # ccxt's market validator requires neither a contract size nor an expiry on spot markets
            del out["contract_size"], out["expiration_timestamp"]
            return out
        out.update(
            settlement_currency=inst.settle,
            counter_currency="USD",
            instrument_type="reversed",
            max_leverage=50,
            max_liquidation_commission=0.0075,
        )
        if inst.kind == "option":
            period = "month" if "monthly" in _kinds(inst) else "week"
            out.update(
                kind="option",
                quote_currency=inst.base,
                strike=inst.strike,
                option_type=inst.option_type,
                settlement_period=period,
                taker_commission=0.0003,
                maker_commission=0.0003,
            )
            del out["max_leverage"], out["max_liquidation_commission"]
        else:
            period = "perpetual" if inst.kind == "perpetual" else ("month" if "monthly" in _kinds(inst) else "week")
            out.update(kind="future", quote_currency="USD", future_type="reversed", settlement_period=period)
        return out

    def get_instruments(self, params: dict[str, str], now: int) -> list[dict[str, Any]]:
        currency = params.get("currency", "any")
        kind = params.get("kind")
        if currency not in ("any", *CURRENCIES):
            raise _bad("currency", "wrong currency")
        out = []
        for inst in self.market.instruments("deribit", now):
            if inst.kind == "option":
                continue
            if currency not in ("any", inst.base) and not (currency == "USDC" and inst.quote == "USDC"):
                continue
            out.append(inst)
        for asset in self.market.params.heston:
            if currency in ("any", asset):
                out.extend(self._options(asset, now))
        if kind is not None:
            kinds = {
                "future": ("future", "perpetual"),
                "option": ("option",),
                "spot": ("spot",),
                "future_combo": (),
                "option_combo": (),
            }.get(kind)
            if kinds is None:
                raise _bad("kind", "wrong kind")
            out = [i for i in out if i.kind in kinds]
        return [self.instrument_payload(i) for i in out]

    def get_instrument(self, params: dict[str, str], now: int) -> dict[str, Any]:
        return self.instrument_payload(self._instrument(required(params, "instrument_name")))

    def get_index_price(self, params: dict[str, str], now: int) -> dict[str, float]:
        index = required(params, "index_name")
        asset = index.split("_")[0].upper()
        if asset not in self.market.params.heston:
            raise _bad("index_name", "wrong index")
        price = round(self.market.index_price(asset, now), 2)
        return {"index_price": price, "estimated_delivery_price": price}

    # --- summaries and tickers ---------------------------------------------------------------------------

    def _option_rows(self, asset: str, now: int) -> pd.DataFrame:
        replay = self.ctx.replay
        if replay is not None and asset in replay.currencies:
            return replay.quotes(asset)
        return self.market.option_quotes("deribit", asset, now)

    def _option_summary(self, row: Any, now: int) -> dict[str, Any]:
        bid, ask = _none_if_nan(row.bid), _none_if_nan(row.ask)
        mid = round((bid + ask) / 2, 8) if bid is not None and ask is not None else None
        return {
            "volume": float(row.volume_24h),
            "volume_usd": _volume_usd(row),
            "underlying_price": float(row.forward),
            "underlying_index": row.underlying_index,
            "quote_currency": row.premium_currency,
            "price_change": None,
            "open_interest": float(row.open_interest),
            "mid_price": mid,
            "mark_price": float(row.mark),
            "mark_iv": round(float(row.iv) * 100.0, 2),
            "low": None,
            "last": None,
            "interest_rate": 0.0,
            "instrument_name": row.id,
            "high": None,
            "estimated_delivery_price": round(float(row.index_price), 2),
            "creation_timestamp": int(getattr(row, "ts", now)),
            "bid_price": bid,
            "base_currency": row.premium_currency,
            "ask_price": ask,
        }

    def _contract_summary(self, inst: Instrument, now: int) -> dict[str, Any]:
        stats = self.market.stats_24h(inst, now)
        bid, _, ask, _ = self.market.top_of_book(inst, now)
        mark = round(self.market.mark_price(inst, now), 4)
        out: dict[str, Any] = {
            "volume": stats["volume"],
            "volume_usd": stats["cost"] if inst.inverse else stats["quote_volume"],
            "quote_currency": inst.quote,
            "price_change": _pct(stats["open"], stats["last"]),
            "mid_price": round((bid + ask) / 2, 4),
            "mark_price": mark,
            "low": stats["low"],
            "last": stats["last"],
            "instrument_name": inst.id,
            "high": stats["high"],
            "creation_timestamp": now,
            "bid_price": bid,
            "base_currency": inst.base,
            "ask_price": ask,
            "estimated_delivery_price": round(self.market.index_price(inst.base, now), 2),
        }
        if inst.kind != "spot":
            out["open_interest"] = float(self.market.open_interest(inst, now)[0])
            out["volume_notional"] = out["volume_usd"]
        if inst.kind == "perpetual":
            out["current_funding"] = self.market.predicted_funding(inst, now)
            out["funding_8h"] = self._funding_8h(inst, now)
        return out

    def _funding_8h(self, inst: Instrument, now: int) -> float:
        rows = self.market.funding(inst, now - 8 * MS_PER_HOUR, now, now)
        return float(rows.rate_8h[-1]) if len(rows) else 0.0

    def get_book_summary_by_currency(self, params: dict[str, str], now: int) -> list[dict[str, Any]]:
        currency = required(params, "currency")
        kind = params.get("kind")
        if currency not in CURRENCIES:
            raise _bad("currency", "wrong currency")
        out: list[dict[str, Any]] = []
        if kind in (None, "future", "spot"):
            for inst in self.market.instruments("deribit", now):
                if inst.kind == "option" or inst.base != currency:
                    continue
                if (kind == "future" and inst.kind == "spot") or (kind == "spot" and inst.kind != "spot"):
                    continue
                out.append(self._contract_summary(inst, now))
        if kind in (None, "option") and currency in self.market.params.heston:
            out.extend(self._option_summary(row, now) for row in records(self._option_rows(currency, now)))
        return out

    def get_book_summary_by_instrument(self, params: dict[str, str], now: int) -> list[dict[str, Any]]:
        inst = self._instrument(required(params, "instrument_name"))
        if inst.kind == "option":
            rows = self._option_rows(inst.base, now)
            row = rows[rows["id"] == inst.id]
            if row.empty:
                raise _bad("instrument_name", "instrument not found")
            return [self._option_summary(next(records(row)), now)]
        return [self._contract_summary(inst, now)]

    def ticker(self, params: dict[str, str], now: int) -> dict[str, Any]:
        inst = self._instrument(required(params, "instrument_name"))
        return self.ticker_payload(inst, now)

    def ticker_payload(self, inst: Instrument, now: int) -> dict[str, Any]:
        """``public/ticker`` result (also the data of the ``ticker.*`` channel)."""
        if inst.kind == "option":
            rows = self._option_rows(inst.base, now)
            match = rows[rows["id"] == inst.id]
            if match.empty:
                raise _bad("instrument_name", "instrument not found")
            row = next(records(match))
            bid, ask = _none_if_nan(row.bid), _none_if_nan(row.ask)
            mark = float(row.mark)
            greeks = {
                "delta": round(float(row.delta), 5),
                "gamma": round(float(row.gamma), 5),
                "vega": round(float(row.vega), 5),
                "theta": round(float(row.theta), 5),
                "rho": round(-float(row.tau) * mark * float(row.forward) / 100.0, 5),
            }
            return {
                "timestamp": int(getattr(row, "ts", now)),
                "state": "open",
                "stats": {
                    "volume": float(row.volume_24h),
                    "volume_usd": _volume_usd(row),
                    "price_change": None,
                    "low": None,
                    "high": None,
                },
                "settlement_price": mark,
                "open_interest": float(row.open_interest),
                "min_price": inst.tick_size,
                "max_price": round(max(mark * 2, (ask or 0.0) * 1.5, inst.tick_size), 4),
                "mark_price": mark,
                "mark_iv": round(float(row.iv) * 100.0, 2),
                "bid_iv": round(float(row.bid_iv) * 100.0, 2) if not math.isnan(row.bid_iv) else 0.0,
                "ask_iv": round(float(row.ask_iv) * 100.0, 2) if not math.isnan(row.ask_iv) else 0.0,
                "last_price": None,
                "interest_rate": 0.0,
                "instrument_name": inst.id,
                "index_price": round(float(row.index_price), 2),
                "greeks": greeks,
                "estimated_delivery_price": round(float(row.index_price), 2),
                "underlying_price": float(row.forward),
                "underlying_index": row.underlying_index,
                "best_bid_price": bid if bid is not None else 0.0,
                "best_bid_amount": float(row.bid_size),
                "best_ask_price": ask if ask is not None else 0.0,
                "best_ask_amount": float(row.ask_size),
            }
        stats = self.market.stats_24h(inst, now)
        bid, bid_size, ask, ask_size = self.market.top_of_book(inst, now)
        mark = round(self.market.mark_price(inst, now), 4)
        index = round(self.market.index_price(inst.base, now), 2)
        out: dict[str, Any] = {
            "timestamp": now,
            "state": "open",
            "stats": {
                "volume": stats["volume"],
                "volume_usd": stats["cost"] if inst.inverse else stats["quote_volume"],
                "price_change": _pct(stats["open"], stats["last"]),
                "low": stats["low"],
                "high": stats["high"],
            },
            "settlement_price": mark,
            "min_price": float(ins.round_to_step(np.array([mark * 0.98]), inst.tick_size)[0]),
            "max_price": float(ins.round_to_step(np.array([mark * 1.02]), inst.tick_size)[0]),
            "mark_price": mark,
            "last_price": stats["last"],
            "instrument_name": inst.id,
            "index_price": index,
            "estimated_delivery_price": index,
            "best_bid_price": bid,
            "best_bid_amount": bid_size,
            "best_ask_price": ask,
            "best_ask_amount": ask_size,
        }
        if inst.kind != "spot":
            out["open_interest"] = float(self.market.open_interest(inst, now)[0])
        if inst.kind == "perpetual":
            out["current_funding"] = self.market.predicted_funding(inst, now)
            out["funding_8h"] = self._funding_8h(inst, now)
            out["interest_value"] = 0.0
        return out

    def get_order_book(self, params: dict[str, str], now: int) -> dict[str, Any]:
        inst = self._instrument(required(params, "instrument_name"))
        depth = clamp_limit(int_param(params, "depth"), 20, 10_000)
        ticker = self.ticker_payload(inst, now)
        tick = inst.tick_size
        bid, ask = ticker["best_bid_price"], ticker["best_ask_price"]
        bids = (
            [[round(bid - i * tick, 8), ticker["best_bid_amount"]] for i in range(depth) if bid - i * tick > 0]
            if bid
            else []
        )
        asks = [[round(ask + i * tick, 8), ticker["best_ask_amount"]] for i in range(depth)]
        return {**ticker, "bids": bids, "asks": asks, "change_id": now}

    # --- history -----------------------------------------------------------------------------------------

    def get_tradingview_chart_data(self, params: dict[str, str], now: int) -> dict[str, Any]:
        inst = self._instrument(required(params, "instrument_name"))
        resolution = required(params, "resolution")
        timeframe = RESOLUTIONS.get(resolution)
        if timeframe is None:
            raise _bad("resolution", "wrong resolution")
        start = int_param(params, "start_timestamp")
        end = int_param(params, "end_timestamp")
        if start is None or end is None:
            raise _bad("start_timestamp" if start is None else "end_timestamp", "missing")
        candles = self.market.candles(inst, timeframe, start, end, now_ms=now)
        if len(candles) > 5000:
            candles = type(candles)(*(getattr(candles, f)[-5000:] for f in candles.__dataclass_fields__))
        volume = np.round(candles.volume, 8)
        return {
            "status": "ok" if len(candles) else "no_data",
            "ticks": candles.ts.tolist(),
            "open": candles.open.tolist(),
            "high": candles.high.tolist(),
            "low": candles.low.tolist(),
            "close": candles.close.tolist(),
            "volume": volume.tolist(),
            "cost": np.round(candles.cost, 8).tolist(),
        }

    def trade_payloads(self, inst: Instrument, trades: Trades) -> list[dict[str, Any]]:
        """Deribit trade records."""
        out = []
        prev = None
        for i in range(len(trades)):
            price = float(trades.price[i])
            ts = int(trades.ts[i])
            index = self.market.index_price(inst.base, ts)
            # Deribit tick direction: 0 plus tick, 1 zero-plus tick, 2 minus tick
            direction = 1 if prev is None or price == prev else (0 if price > prev else 2)
            prev = price
            out.append(
                {
                    "trade_seq": int(trades.id[i]),
                    "trade_id": str(int(trades.id[i])),
                    "timestamp": ts,
                    "tick_direction": direction,
                    "price": price,
                    "mark_price": round(
                        index * float(self.market.multiplier(inst, np.array([floor_ms(ts, 60_000)]))[0]), 4
                    ),
                    "instrument_name": inst.id,
                    "index_price": round(index, 2),
                    "direction": "buy" if trades.buy[i] else "sell",
                    "amount": float(trades.amount[i]),
                    "contracts": round(float(trades.amount[i]) / inst.contract_size, 8),
                }
            )
        return out

    def get_last_trades_by_instrument(self, params: dict[str, str], now: int) -> dict[str, Any]:
        inst = self._instrument(required(params, "instrument_name"))
        count = clamp_limit(int_param(params, "count"), 10, 1000)
        trades = self.market.trades(inst, now - 3 * 86_400_000, now)
        picked = trades.select(slice(max(len(trades) - count, 0), len(trades)))
        payload = self.trade_payloads(inst, picked)
        if params.get("sorting", "desc") != "asc":
            payload.reverse()
        return {"trades": payload, "has_more": len(trades) > count}

    def get_last_trades_by_instrument_and_time(self, params: dict[str, str], now: int) -> dict[str, Any]:
        inst = self._instrument(required(params, "instrument_name"))
        count = clamp_limit(int_param(params, "count"), 10, 1000)
        start = int_param(params, "start_timestamp")
        end = int_param(params, "end_timestamp")
        if start is None and end is None:
            raise _bad("start_timestamp", "missing")
        end = min(end if end is not None else now, now)
        start = start if start is not None else end - 86_400_000
        trades = self.market.trades(inst, start, end)
        descending = params.get("sorting") == "desc"
        picked = trades.select(slice(max(len(trades) - count, 0), len(trades)) if descending else slice(0, count))
        payload = self.trade_payloads(inst, picked)
        if descending:
            payload.reverse()
        return {"trades": payload, "has_more": len(trades) > count}

    def get_funding_rate_history(self, params: dict[str, str], now: int) -> list[dict[str, Any]]:
        inst = self._instrument(required(params, "instrument_name"))
        if inst.kind != "perpetual":
            raise _bad("instrument_name", "not a perpetual")
        start = int_param(params, "start_timestamp")
        end = int_param(params, "end_timestamp")
        if start is None or end is None:
            raise _bad("start_timestamp" if start is None else "end_timestamp", "missing")
        rows = self.market.funding(inst, start, end, now)
        n = min(len(rows), 744)
        return [
            {
                "timestamp": int(rows.ts[i]),
                "index_price": round(float(rows.index_price[i]), 2),
                "prev_index_price": round(float(rows.prev_index_price[i]), 2),
                "interest_8h": float(rows.rate_8h[i]),
                "interest_1h": float(rows.rate[i]),
            }
            for i in range(n)
        ]

    def get_funding_rate_value(self, params: dict[str, str], now: int) -> float:
        inst = self._instrument(required(params, "instrument_name"))
        start = int_param(params, "start_timestamp", now - 8 * MS_PER_HOUR)
        end = int_param(params, "end_timestamp", now)
        assert start is not None and end is not None
        rows = self.market.funding(inst, start, end, now)
        return round(float(rows.rate.sum()), 12)

    # --- WebSocket ---------------------------------------------------------------------------------------

    async def ws_message(self, session: WsSession, message: Any) -> None:
        """Answer one JSON-RPC message."""
        if not isinstance(message, dict):
            await session.send(error_payload(-32700, "Parse error"), data=False)
            return
        request_id = message.get("id")
        method = str(message.get("method", ""))
        params = message.get("params") or {}
        if method in ("public/subscribe", "private/subscribe"):
            channels = [c for c in params.get("channels", []) if self._start_channel(session, c)]
            await session.send(envelope(channels, request_id), data=False)
            return
        if method in ("public/unsubscribe", "public/unsubscribe_all"):
            await session.send(envelope(params.get("channels", []), request_id), data=False)
            return
        if method in ("public/set_heartbeat", "public/disable_heartbeat", "public/hello"):
            await session.send(envelope("ok", request_id), data=False)
            return
        name = method.removeprefix("public/")
        now = self.ctx.now_ms()
        try:
            result = self.rest(
                {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}, now, name
            )
            payload = result.payload
            payload["id"] = request_id
        except ApiError as exc:
            payload = exc.payload
            payload["id"] = request_id
        await session.send(payload, data=False)

    def _start_channel(self, session: WsSession, channel: str) -> bool:
        parts = channel.split(".")
        if len(parts) != 3 or parts[0] not in ("ticker", "trades"):
            return False
        inst = self._lookup(parts[1])
        if inst is None:
            return False
        if parts[0] == "ticker":
            session.spawn(self._push_ticker(session, channel, inst))
        else:
            if inst.kind == "option":
                return True
            session.spawn(self._push_trades(session, channel, inst))
        return True

    async def _push_ticker(self, session: WsSession, channel: str, inst: Instrument) -> None:
        while True:
            data = self.ticker_payload(inst, self.ctx.now_ms())
            if not await session.send(
                {"jsonrpc": "2.0", "method": "subscription", "params": {"channel": channel, "data": data}}
            ):
                return
            await asyncio.sleep(self.ctx.ws_interval_s)

    async def _push_trades(self, session: WsSession, channel: str, inst: Instrument) -> None:
        async for _, trades in self.ctx.new_trades(inst):
            if not await session.send(
                {
                    "jsonrpc": "2.0",
                    "method": "subscription",
                    "params": {"channel": channel, "data": self.trade_payloads(inst, trades)},
                }
            ):
                return


def _volume_usd(row: Any) -> float:
    recorded = getattr(row, "volume_usd", None)
    if recorded is not None and not math.isnan(recorded):
        return float(recorded)
    return round(float(row.volume_24h * row.mark * row.index_price), 2)


def _kinds(inst: Instrument) -> tuple[str, ...]:
    from cryptoderiv.simulator.calendar import expiry_kinds

    return expiry_kinds(inst.expiry_ms) if inst.expiry_ms is not None else ()


def _pct(open_: float, last: float) -> float | None:
    return round((last / open_ - 1.0) * 100.0, 4) if open_ else None


def routes(ctx: SimContext) -> list[Route]:
    """Deribit's REST and WebSocket routes."""
    api = DeribitApi(ctx)
    routes_: list[Route] = []
    for name in api.methods:

        def rest(params: dict[str, str], now: int, name: str = name) -> ApiResult:
            return api.rest(params, now, name)

        routes_.append(Route("deribit", HOST, f"/api/v2/public/{name}", rest=rest, rate_limit_payload=api.rate_limited))
    routes_.append(Route("deribit", HOST, "/ws/api/v2", ws_message=api.ws_message))
    return routes_
