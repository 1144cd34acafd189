"""The real ccxt REST clients (unpatched classes) against the simulator: shapes pass ccxt's own validators and
values equal the simulator's ground truth."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest
from ccxt.test.exchange.base.test_funding_rate_history import test_funding_rate_history as check_funding
from ccxt.test.exchange.base.test_market import test_market as check_market
from ccxt.test.exchange.base.test_ohlcv import test_ohlcv as check_ohlcv
from ccxt.test.exchange.base.test_open_interest import test_open_interest as check_open_interest
from ccxt.test.exchange.base.test_ticker import test_ticker as check_ticker

from cryptoderiv.simulator.calendar import MS_PER_YEAR
from tests.integration.exchanges.support import plain_ccxt

VENUES = ("deribit", "binance", "bybit")
PERP = {"deribit": "BTC/USD:BTC", "binance": "BTC/USDT:USDT", "bybit": "BTC/USDT:USDT"}
SPOT = {"deribit": "ETH/USDC", "binance": "ETH/USDT", "bybit": "ETH/USDT"}
# Deribit lists no USD currency (USD is a quote, not a coin); ccxt's own test suite skips this check too.
MARKET_SKIPS = {"deribit": {"currencyIdAndCode": True}, "binance": {}, "bybit": {}}


@pytest.mark.parametrize("venue", VENUES)
def test_load_markets_lists_the_instruments_and_passes_ccxt_validators(sim, venue):
    ex = plain_ccxt(venue, sim)
    markets = ex.load_markets()
    for market in markets.values():
        check_market(ex, MARKET_SKIPS[venue], "loadMarkets", market)
    kinds = Counter(m["type"] for m in markets.values())
    assert kinds["spot"] == 2 and kinds["swap"] == 2
    for base in ("BTC", "ETH"):
        assert any(m["spot"] and m["base"] == base for m in markets.values())
        assert any(m["swap"] and m["base"] == base for m in markets.values())
    if venue in ("deribit", "binance"):
        futures = [m for m in markets.values() if m["future"] and m["base"] == "BTC"]
        assert len(futures) >= 3
    if venue == "deribit":
        futures = {m["expiry"] for m in markets.values() if m["future"] and m["base"] == "BTC"}
        assert len(futures) >= 5  # weeklies, monthlies and quarterlies
        assert all(m["inverse"] for m in markets.values() if m["contract"])
    if venue in ("deribit", "bybit"):
        strikes = defaultdict(set)
        for m in markets.values():
            if m["option"] and m["base"] == "BTC":
                strikes[m["expiry"]].add(m["strike"])
        assert len(strikes) >= 8
        assert min(len(s) for s in strikes.values()) >= 15
        settle = {m["settle"] for m in markets.values() if m["option"]}
        assert settle == ({"BTC", "ETH"} if venue == "deribit" else {"USDT"})


@pytest.mark.parametrize("venue", VENUES)
def test_fetch_ohlcv_pages_equal_the_ground_truth(sim, venue, past_day):
    ex = plain_ccxt(venue, sim)
    ex.load_markets()
    start, end = past_day
    now = ex.milliseconds()
    for symbol in (PERP[venue], SPOT[venue]):
        got = []
        for since in range(start, end, 500 * 60_000):
            page = ex.fetch_ohlcv(
                symbol, "1m", since=since, limit=500, params={"until": min(since + 500 * 60_000, end) - 1}
            )
            for candle in page:
                check_ohlcv(ex, {}, "fetchOHLCV", candle, symbol, now)
            got.extend(page)
        inst = sim.market.instrument_by_symbol(venue, symbol, now)
        truth = sim.market.candles(inst, "1m", start, end - 1)
        arr = np.array(got, dtype=np.float64)
        assert len(got) == len(truth) == 1440
        np.testing.assert_array_equal(arr[:, 0].astype(np.int64), truth.ts)
        for i, column in enumerate(("open", "high", "low", "close", "volume"), start=1):
            np.testing.assert_array_equal(arr[:, i], getattr(truth, column), err_msg=f"{venue} {symbol} {column}")


@pytest.mark.parametrize("venue", VENUES)
def test_fetch_funding_rate_history_equals_the_ground_truth(sim, venue, past_day):
    ex = plain_ccxt(venue, sim)
    ex.load_markets()
    start, end = past_day
    symbol = PERP[venue]
    rows = ex.fetch_funding_rate_history(symbol, since=start, limit=24, params={"until": end - 1})
    for row in rows:
        check_funding(ex, {}, "fetchFundingRateHistory", row, symbol)
    inst = sim.market.instrument_by_symbol(venue, symbol, ex.milliseconds())
    truth = sim.market.funding(inst, start, end - 1)
    assert [r["timestamp"] for r in rows] == truth.ts.tolist()
    if venue == "deribit":  # ccxt reports the trailing 8 h rate; the hourly payment is in info
        assert [r["fundingRate"] for r in rows] == truth.rate_8h.tolist()
        assert [r["info"]["interest_1h"] for r in rows] == truth.rate.tolist()
        assert len(rows) == 24
    else:
        assert [r["fundingRate"] for r in rows] == truth.rate.tolist()
        assert len(rows) == 3


@pytest.mark.parametrize("venue", VENUES)
def test_fetch_open_interest_equals_the_ground_truth(sim, venue):
    ex = plain_ccxt(venue, sim)
    ex.load_markets()
    oi = ex.fetch_open_interest(PERP[venue])
    check_open_interest(ex, {}, "fetchOpenInterest", oi)
    inst = sim.market.instrument_by_symbol(venue, PERP[venue], ex.milliseconds())
    truth = float(sim.market.open_interest(inst, oi["timestamp"])[0])
    if venue == "deribit":
        assert oi["openInterestValue"] == truth  # USD for inverse contracts
        assert oi["openInterestAmount"] is None
    else:
        assert oi["openInterestAmount"] == truth  # base units


def test_deribit_option_chain_and_tickers_equal_the_model(sim):
    ex = plain_ccxt("deribit", sim)
    ex.load_markets()
    chain = ex.fetch_option_chain("BTC")
    assert len(chain) > 400
    ts = next(iter(chain.values()))["info"]["creation_timestamp"]
    truth = sim.market.option_quotes("deribit", "BTC", ts).set_index("symbol")
    assert set(chain) == set(truth.index)
    for symbol, option in chain.items():
        row = truth.loc[symbol]
        assert option["impliedVolatility"] is None  # ccxt leaves it empty: mark IV is in info, in percent
        assert option["info"]["mark_iv"] == round(row["iv"] * 100, 2)
        assert option["markPrice"] == row["mark"]
        assert option["underlyingPrice"] == row["forward"]
        assert option["bidPrice"] == (None if np.isnan(row["bid"]) else row["bid"])
        assert option["askPrice"] == row["ask"]
    first_expiry = min(ex.markets[s]["expiry"] for s in chain)
    near = [s for s in chain if ex.markets[s]["expiry"] == first_expiry][:12]
    for symbol in near:
        ticker = ex.fetch_ticker(symbol)
        info = ticker["info"]
        skips = {} if ticker["bid"] else {"positiveValues": True}  # an empty bid side is 0 on Deribit
        check_ticker(ex, skips, "fetchTicker", ticker, symbol)
        row = sim.market.option_quotes("deribit", "BTC", info["timestamp"]).set_index("symbol").loc[symbol]
        assert info["greeks"]["delta"] == round(row["delta"], 5)
        assert info["greeks"]["vega"] == round(row["vega"], 5)
        assert info["mark_iv"] == round(row["iv"] * 100, 2)
        assert ex.fetch_greeks(symbol)["delta"] is not None


def test_bybit_option_tickers_carry_decimal_iv_and_greeks(sim):
    ex = plain_ccxt("bybit", sim)
    ex.load_markets()
    chain = ex.fetch_option_chain("ETH")
    ts = ex.last_json_response["time"]
    truth = sim.market.option_quotes("bybit", "ETH", ts).set_index("symbol")
    assert set(chain) == set(truth.index)
    for symbol, option in chain.items():
        row = truth.loc[symbol]
        assert option["impliedVolatility"] == round(row["iv"], 4)
        assert float(option["info"]["delta"]) == round(row["delta"], 8)
        assert option["underlyingPrice"] == round(row["forward"], 2)
        assert (ex.markets[symbol]["expiry"] - ts) / MS_PER_YEAR == pytest.approx(
            row["tau"], abs=1.0 / (365 * 86_400)
        )  # priced on the second
    atm = [s for s, o in chain.items() if o["bidPrice"]][:20]
    tickers = ex.fetch_tickers(atm)
    for symbol, ticker in tickers.items():
        # turnover24h is notional (contracts x index), not premium: the spot-style volume identity does not apply
        check_ticker(ex, {"compareQuoteVolumeBaseVolume": True}, "fetchTickers", ticker, symbol)
