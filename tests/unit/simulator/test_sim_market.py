"""The simulated market: determinism, internal coherence (candles vs trades, funding vs premium) and the option
surface (expiries, strikes, skew, spreads)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.simulator import Market
from cryptoderiv.simulator.calendar import EPOCH_MS, MS_PER_DAY, MS_PER_HOUR
from cryptoderiv.simulator.option_pricer import black76_price
from cryptoderiv.simulator.paths import HestonPaths, heston_day_plain

DAY = 300  # a day well inside the simulated history
T0 = EPOCH_MS + DAY * MS_PER_DAY


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=7)


def test_paths_do_not_depend_on_request_order():
    params = Market(seed=5).params.heston
    forward = HestonPaths(5, params)
    first = forward.day(40)["BTC"].log_s.copy()
    backward = HestonPaths(5, params)
    backward.day(90)
    backward.seconds("ETH", 12)
    np.testing.assert_array_equal(backward.day(40)["BTC"].log_s, first)
    assert not np.array_equal(HestonPaths(6, params).day(40)["BTC"].log_s, first)


def test_compiled_and_plain_heston_kernels_agree():
    params = Market(seed=5).params.heston
    compiled = HestonPaths(5, params).day(20)
    plain = HestonPaths(5, params, kernel=heston_day_plain).day(20)
    for asset in params:
        np.testing.assert_allclose(compiled[asset].log_s, plain[asset].log_s, rtol=0, atol=1e-12)
        np.testing.assert_allclose(compiled[asset].v, plain[asset].v, rtol=0, atol=1e-12)


def test_realised_variance_tracks_the_heston_variance(market):
    closes = np.concatenate([np.exp(market.paths.day(d)["BTC"].log_s[:-1]) for d in range(100, 160)])
    realised = np.var(np.diff(np.log(closes))) * 365 * 1440
    model = np.mean(np.concatenate([market.paths.day(d)["BTC"].v[:-1] for d in range(100, 160)]))
    assert realised == pytest.approx(model, rel=0.1)


def test_candles_are_the_sum_of_the_trades(market):
    inst = market.instrument("binance", "usdm", "ETHUSDT")
    candles = market.candles(inst, "1m", T0, T0 + 59 * 60_000)
    trades = market.trades(inst, T0, T0 + 60 * 60_000 - 1)
    minute = (trades.ts - T0) // 60_000
    np.testing.assert_allclose(candles.volume, np.bincount(minute, trades.base_amount, 60), atol=1e-9)
    np.testing.assert_array_equal(candles.count, np.bincount(minute, minlength=60))
    assert np.all(trades.price <= candles.high[minute]) and np.all(trades.price >= candles.low[minute])
    assert np.all(np.diff(trades.id) > 0) and np.all(np.diff(trades.ts) >= 0)


def test_higher_timeframes_aggregate_minutes(market):
    inst = market.instrument("bybit", "spot", "BTCUSDT")
    minutes = market.candles(inst, "1m", T0, T0 + MS_PER_DAY - 1).frame()
    hours = market.candles(inst, "1h", T0, T0 + MS_PER_DAY - 1).frame()
    grouped = minutes.groupby(minutes["ts"].dt.floor("h")).agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
    )
    np.testing.assert_array_equal(hours["open"], grouped["open"])
    np.testing.assert_array_equal(hours["high"], grouped["high"])
    np.testing.assert_array_equal(hours["close"], grouped["close"])
    np.testing.assert_allclose(hours["volume"], grouped["volume"], atol=1e-6)


def test_the_forming_candle_stops_at_now(market):
    inst = market.instrument("deribit", "future", "BTC-PERPETUAL")
    now = T0 + 10 * 60_000 + 25_000
    partial = market.candles(inst, "1m", T0, now + MS_PER_HOUR, now_ms=now)
    full = market.candles(inst, "1m", T0, T0 + 10 * 60_000)
    assert partial.ts[-1] == T0 + 10 * 60_000 and len(partial) == 11
    assert partial.volume[-1] <= full.volume[-1]
    assert partial.count[-1] == len(market.trades(inst, T0 + 10 * 60_000, now))


def test_funding_follows_the_premium(market):
    perp = market.instrument("binance", "usdm", "BTCUSDT")
    rows = market.funding(perp, T0, T0 + 3 * MS_PER_DAY)
    assert len(rows) == 10 and rows.interval_hours == 8
    grid = rows.ts[3] - 8 * MS_PER_HOUR + np.arange(480, dtype=np.int64) * 60_000
    p = market.premium("binance", "BTC", grid).mean()
    assert rows.rate[3] == pytest.approx(np.clip(p + np.clip(1e-4 - p, -5e-4, 5e-4), -3e-3, 3e-3), abs=1e-8)
    deribit = market.funding(market.instrument("deribit", "future", "BTC-PERPETUAL"), T0, T0 + MS_PER_DAY)
    assert deribit.interval_hours == 1 and len(deribit) == 25
    np.testing.assert_allclose(deribit.rate_8h[8:], pd.Series(deribit.rate).rolling(8).sum().to_numpy()[8:], atol=1e-11)


def test_dated_futures_converge_to_the_index(market):
    future = next(i for i in market.instruments("deribit", T0) if i.kind == "future" and i.base == "BTC")
    assert future.expiry_ms is not None
    far = market.mark_price(future, future.expiry_ms - 30 * MS_PER_DAY) / market.index_price(
        "BTC", future.expiry_ms - 30 * MS_PER_DAY
    )
    near = market.mark_price(future, future.expiry_ms - 60_000) / market.index_price("BTC", future.expiry_ms - 60_000)
    assert abs(near - 1) < abs(far - 1) and abs(near - 1) < 1e-5


def test_option_chain_shape_skew_and_spreads(market):
    quotes = market.option_quotes("deribit", "BTC", T0)
    expiries = sorted(quotes["expiry_ms"].unique())
    assert len(expiries) >= 8
    for e in expiries:  # at least 15 strikes within two standard deviations (70 % vol, >= 1 week) of the forward
        chain = quotes[(quotes["expiry_ms"] == e) & (quotes["option_type"] == "call")]
        sd = 0.7 * np.sqrt(np.maximum(chain["tau"], 7 / 365))
        assert (np.abs(np.log(chain["strike"] / chain["forward"])) < 2 * sd).sum() >= 15
    # model consistency: put-call parity on the forward and IV reproducing the model price
    calls = quotes[quotes["option_type"] == "call"].set_index(["expiry_ms", "strike"])
    puts = quotes[quotes["option_type"] == "put"].set_index(["expiry_ms", "strike"])
    np.testing.assert_allclose(
        calls["model_usd"] - puts["model_usd"],
        calls["forward"] - calls.index.get_level_values(1),
        atol=1e-6 * calls["forward"].max(),
    )
    month = quotes[(quotes["expiry_ms"] == expiries[4]) & (quotes["option_type"] == "call")]
    otm = month[(month["strike"] >= month["forward"]) & (month["model_usd"] > 1e-3)]  # far wings: IV extrapolated
    np.testing.assert_allclose(
        black76_price("call", otm["forward"], otm["strike"], otm["tau"], otm["iv"]),
        otm["model_usd"],
        rtol=1e-6,
        atol=1e-6,
    )
    # negative rho: downside strikes carry more volatility than upside ones at the same distance
    k = np.log(month["strike"] / month["forward"])
    low = np.interp(-0.15, k, month["iv"])
    high = np.interp(0.15, k, month["iv"])
    atm = np.interp(0.0, k, month["iv"])
    assert low > high and low > atm
    # spreads in volatility widen in the wings and at short expiries
    q = quotes.dropna(subset=["bid_iv", "ask_iv"])
    q = q.assign(width=q["ask_iv"] - q["bid_iv"], z=np.abs(np.log(q["strike"] / q["forward"])) / np.sqrt(q["tau"]))
    long = q[q["tau"] > 0.2]
    assert long[long["z"] > 0.6]["width"].median() > long[long["z"] < 0.2]["width"].median()
    atm_q = q[q["z"] < 0.2]
    assert atm_q[atm_q["tau"] < 0.05]["width"].median() > atm_q[atm_q["tau"] > 0.2]["width"].median()
    assert (q["bid"] <= q["mark"]).all() and (q["mark"] <= q["ask"]).all()


def test_bybit_quotes_share_the_model_but_not_the_units(market):
    deribit = market.option_quotes("deribit", "ETH", T0).set_index(["expiry_ms", "strike", "option_type"])
    bybit = market.option_quotes("bybit", "ETH", T0).set_index(["expiry_ms", "strike", "option_type"])
    np.testing.assert_array_equal(deribit["iv"], bybit["iv"])
    np.testing.assert_allclose(deribit["mark"] * deribit["forward"], bybit["mark"], atol=0.01)
    assert set(bybit["premium_currency"]) == {"USDT"} and set(deribit["premium_currency"]) == {"ETH"}
    assert bybit["id"].str.endswith("-USDT").all()


def test_instrument_lookup_round_trips(market):
    for venue in ("deribit", "binance", "bybit"):
        for inst in market.instruments(venue, T0)[::37]:
            assert market.instrument(venue, inst.market_type, inst.id) == inst
    assert market.instrument("deribit", "option", "BTC-27MAR26-123457-C") is None
