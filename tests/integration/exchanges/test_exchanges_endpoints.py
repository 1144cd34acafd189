"""Pins the endpoints (and parameter names) ccxt 4.5.90 calls for each library function.

A ccxt upgrade that changes which endpoints a method uses, or how it names window parameters, fails here
first (the simulator's request log records every request).
"""

from __future__ import annotations

import math

import pytest

from cryptoderiv.exchanges import (
    VenueClient,
    fetch_funding_history,
    fetch_futures_quotes,
    fetch_instruments,
    fetch_ohlcv,
    fetch_open_interest,
    fetch_option_chain,
    fetch_trades,
)

HOUR = 3_600_000
B_SPOT, B_FAPI, B_DATA = "api.binance.com/api/v3/", "fapi.binance.com/fapi/v1/", "fapi.binance.com/futures/data/"
D = "www.deribit.com/api/v2/public/"
Y = "api.bybit.com/v5/market/"


def calls(sim, *, with_params=True):
    return [
        (r.endpoint, tuple(sorted(r.params))) if with_params else r.endpoint
        for r in sim.request_log.records()
        if r.transport == "http"
    ]


def loaded(sim, venue):
    vc = VenueClient(venue, source="simulator", simulator_url=sim.url)
    vc.markets()
    sim.request_log.clear()
    return vc


def test_load_markets_endpoints(sim):
    sim.request_log.clear()
    fetch_instruments("binance", source="simulator", simulator_url=sim.url)
    assert calls(sim, with_params=False) == [B_SPOT + "exchangeInfo", B_FAPI + "exchangeInfo"]
    sim.request_log.clear()
    fetch_instruments("deribit", source="simulator", simulator_url=sim.url)
    assert calls(sim, with_params=False) == [D + "get_currencies", D + "get_instruments"]
    sim.request_log.clear()
    now = int(sim.ctx.now_ms())
    fetch_instruments("bybit", source="simulator", simulator_url=sim.url)
    records = [r for r in sim.request_log.records() if r.transport == "http"]
    assert {r.endpoint for r in records} == {Y + "instruments-info"}
    pages = {
        a: math.ceil(sum(1 for i in sim.market.instruments("bybit", now) if i.kind == "option" and i.base == a) / 500)
        for a in ("BTC", "ETH")
    }
    expected = [("spot", None, None), ("linear", None, None), ("linear", "PreLaunch", None)]
    for asset in ("BTC", "ETH"):
        expected += [("option", None, asset)] * pages[asset]
    assert [(r.params.get("category"), r.params.get("status"), r.params.get("baseCoin")) for r in records] == expected


@pytest.mark.parametrize(
    ("venue", "symbol", "expected"),
    [
        ("binance", "BTC/USDT", [(B_SPOT + "klines", ("endTime", "interval", "limit", "startTime", "symbol"))] * 2),
        (
            "binance",
            "BTC/USDT:USDT",
            [(B_FAPI + "klines", ("endTime", "interval", "limit", "startTime", "symbol"))] * 2,
        ),
        ("bybit", "BTC/USDT:USDT", [(Y + "kline", ("category", "end", "interval", "limit", "start", "symbol"))] * 2),
        (
            "deribit",
            "BTC/USD:BTC",
            [(D + "get_tradingview_chart_data", ("end_timestamp", "instrument_name", "resolution", "start_timestamp"))]
            * 2,
        ),
    ],
)
def test_fetch_ohlcv_endpoints(sim, past_day, venue, symbol, expected):
    vc = loaded(sim, venue)
    fetch_ohlcv(vc, symbol, "1m", *past_day)
    assert calls(sim) == expected


@pytest.mark.parametrize(
    ("venue", "symbol", "expected"),
    [
        ("binance", "BTC/USDT:USDT", [(B_FAPI + "fundingRate", ("endTime", "limit", "startTime", "symbol"))]),
        ("bybit", "BTC/USDT:USDT", [(Y + "funding/history", ("category", "endTime", "limit", "startTime", "symbol"))]),
        (
            "deribit",
            "BTC/USD:BTC",
            [(D + "get_funding_rate_history", ("end_timestamp", "instrument_name", "start_timestamp"))],
        ),
    ],
)
def test_fetch_funding_history_endpoints(sim, past_day, venue, symbol, expected):
    vc = loaded(sim, venue)
    fetch_funding_history(vc, symbol, *past_day)
    assert calls(sim) == expected


@pytest.mark.parametrize(
    ("venue", "symbol", "now_expected", "history_expected"),
    [
        ("binance", "BTC/USDT:USDT", [B_FAPI + "openInterest", B_FAPI + "premiumIndex"], [B_DATA + "openInterestHist"]),
        ("bybit", "BTC/USDT:USDT", [Y + "open-interest", Y + "tickers"], [Y + "open-interest"]),
        ("deribit", "BTC/USD:BTC", [D + "get_book_summary_by_instrument"], None),
    ],
)
def test_fetch_open_interest_endpoints(sim, venue, symbol, now_expected, history_expected):
    vc = loaded(sim, venue)
    fetch_open_interest(vc, symbol)
    assert calls(sim, with_params=False) == now_expected
    if history_expected is not None:
        sim.request_log.clear()
        end = (sim.ctx.now_ms() // HOUR - 1) * HOUR
        fetch_open_interest(vc, symbol, end - 10 * HOUR, end, timeframe="1h")
        assert calls(sim, with_params=False) == history_expected


def test_fetch_option_chain_endpoints(sim):
    vc = loaded(sim, "deribit")
    result = fetch_option_chain(vc, "ETH", expiries=1)
    assert calls(sim) == (
        [(D + "get_book_summary_by_currency", ("currency", "kind"))]
        + [(D + "ticker", ("instrument_name",))] * len(result.frame)
    )
    vc = loaded(sim, "bybit")
    fetch_option_chain(vc, "ETH")
    assert calls(sim) == [(Y + "tickers", ("baseCoin", "category"))]


def test_fetch_futures_quotes_and_trades_endpoints(sim):
    vc = loaded(sim, "binance")
    fetch_futures_quotes(vc, ["BTC/USDT:USDT"])
    assert calls(sim, with_params=False) == [B_FAPI + "premiumIndex", B_FAPI + "ticker/bookTicker"]
    sim.request_log.clear()
    start = (sim.ctx.now_ms() // HOUR - 2) * HOUR
    fetch_trades(vc, "ETH/USDT", start, start + 10 * 60_000)
    assert calls(sim) == [(B_SPOT + "aggTrades", ("endTime", "limit", "startTime", "symbol"))]
    vc = loaded(sim, "deribit")
    fetch_futures_quotes(vc, ["BTC/USD:BTC"])
    assert calls(sim, with_params=False) == [D + "ticker"]
    sim.request_log.clear()
    fetch_trades(vc, "BTC/USD:BTC", start, start + 10 * 60_000)
    assert calls(sim) == [
        (
            D + "get_last_trades_by_instrument_and_time",
            ("count", "end_timestamp", "include_old", "instrument_name", "start_timestamp"),
        )
    ]
    vc = loaded(sim, "bybit")
    fetch_trades(vc, "BTC/USDT:USDT", start, start + 10 * 60_000)
    assert calls(sim) == [(Y + "recent-trade", ("category", "limit", "symbol"))]
