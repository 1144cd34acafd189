"""ccxt.pro (unpatched) WebSocket clients against the simulator: tickers, trades, Deribit option tickers, drops."""

from __future__ import annotations

import asyncio

import pytest
from ccxt.test.exchange.base.test_ticker import test_ticker as check_ticker
from ccxt.test.exchange.base.test_trade import test_trade as check_trade

from cryptoderiv.exchanges import RetryPolicy, make_client
from cryptoderiv.exchanges.streams import StreamStats, watch
from cryptoderiv.simulator import SimulatorServer
from tests.integration.exchanges.support import plain_ccxt

CASES = [
    ("binance", "BTC/USDT"),
    ("binance", "BTC/USDT:USDT"),
    ("bybit", "ETH/USDT"),
    ("bybit", "BTC/USDT:USDT"),
    ("deribit", "BTC/USD:BTC"),
]


@pytest.mark.parametrize(("venue", "symbol"), CASES)
def test_watch_ticker_and_trades(sim, venue, symbol):
    async def run():
        ex = plain_ccxt(venue, sim, flavour="pro")
        if venue == "binance":  # the default miniTicker stream has no bid/ask (see PITFALLS)
            ex.options["watchTickers"] = {"name": "ticker"}
        try:
            ticker = await asyncio.wait_for(ex.watch_ticker(symbol), 10)
            trades = await asyncio.wait_for(ex.watch_trades(symbol), 20)
            return ex, ticker, trades
        finally:
            await ex.close()

    ex, ticker, trades = asyncio.run(run())
    check_ticker(ex, {}, "watchTicker", ticker, symbol)
    assert ticker["symbol"] == symbol and ticker["last"] > 0
    if not (venue == "binance" and symbol.endswith(":USDT")):  # USD-M 24hrTicker streams carry no book
        assert ticker["bid"] < ticker["ask"]
    inst = sim.market.instrument_by_symbol(venue, symbol, ticker["timestamp"] or trades[0]["timestamp"])
    for trade in trades:
        check_trade(ex, {}, "watchTrades", trade, symbol, ex.milliseconds(), True)
        truth = sim.market.trades(inst, trade["timestamp"], trade["timestamp"])
        assert trade["price"] in truth.price.tolist()
        if venue != "bybit":  # Bybit trade ids are UUIDs derived from the id
            assert int(trade["id"]) in truth.id.tolist()


def test_deribit_option_ticker_channel_carries_greeks_and_mark_iv(sim):
    async def run():
        ex = plain_ccxt("deribit", sim, flavour="pro")
        try:
            await ex.load_markets()
            options = sorted(
                (m for m in ex.markets.values() if m["option"] and m["base"] == "ETH"),
                key=lambda m: (m["expiry"], m["strike"]),
            )
            symbol = options[len(options) // 3]["symbol"]
            return symbol, await asyncio.wait_for(ex.watch_ticker(symbol), 10)
        finally:
            await ex.close()

    symbol, ticker = asyncio.run(run())
    info = ticker["info"]
    row = sim.market.option_quotes("deribit", "ETH", info["timestamp"]).set_index("symbol").loc[symbol]
    assert info["mark_iv"] == round(row["iv"] * 100, 2)
    assert info["greeks"]["delta"] == round(row["delta"], 5)
    assert info["greeks"]["gamma"] == round(row["gamma"], 5)
    assert info["underlying_price"] == row["forward"]
    assert ticker["markPrice"] == row["mark"]


def test_dropped_websockets_are_redialled():
    with SimulatorServer(seed=3, faults="ws_drop_every=4", ws_interval_s=0.05) as server:

        async def run():
            ex = make_client("bybit", "simulator", simulator_url=server.url, flavour="pro")
            stats = StreamStats()
            tickers = []
            try:
                async for ticker in watch(
                    ex,
                    "watch_ticker",
                    "BTC/USDT:USDT",
                    stats=stats,
                    retry=RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, seed=1),
                ):
                    tickers.append(ticker)
                    if len(tickers) == 12:
                        break
            finally:
                await ex.close()
            return stats, tickers

        stats, tickers = asyncio.run(asyncio.wait_for(run(), 30))
        assert stats.updates == len(tickers) == 12
        assert stats.reconnects >= 2
        assert server.faults.injected["ws_drop"] >= 2
        subscriptions = [r for r in server.request_log.records() if r.params.get("op") == "subscribe"]
        assert len(subscriptions) >= 3  # every new connection subscribes again
