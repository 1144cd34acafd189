"""The library functions (pagination, normalisation, units) against the simulator's ground truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.exchanges import (
    UnsupportedRequestError,
    VenueClient,
    fetch_funding_history,
    fetch_futures_quotes,
    fetch_instruments,
    fetch_ohlcv,
    fetch_open_interest,
    fetch_option_chain,
    fetch_trades,
)
from cryptoderiv.exchanges.schemas import (
    CANDLES,
    FUNDING,
    FUTURES_QUOTES,
    INSTRUMENTS,
    OPEN_INTEREST,
    OPTION_QUOTES,
    TRADES,
)

SYMBOLS = {
    "deribit": ["BTC/USD:BTC", "ETH/USDC"],
    "binance": ["BTC/USDT:USDT", "ETH/USDT"],
    "bybit": ["BTC/USDT", "ETH/USDT:USDT"],
}


def client(venue, sim):
    return VenueClient(venue, source="simulator", simulator_url=sim.url)


def assert_schema(frame, schema):
    assert list(frame.columns) == schema.names
    for column in schema.columns:
        assert str(frame[column.name].dtype) == column.dtype, column.name


@pytest.mark.parametrize("venue", ["deribit", "binance", "bybit"])
def test_fetch_ohlcv_is_complete_and_equals_the_truth(sim, venue, past_day):
    start, end = past_day
    with client(venue, sim) as vc:
        vc.markets()
        result = fetch_ohlcv(vc, SYMBOLS[venue], "1m", start, end, page_limit=700)
    assert_schema(result.frame, CANDLES)
    assert result.gaps == [] and result.duplicates == 0
    assert result.stats.calls == 2 * 3  # 3 pages per symbol (markets loaded before)
    assert len(result.raw) == 6
    raw = result.raw_frame()
    assert list(raw.columns) == ["exchange", "method", "request", "url", "fetched_at", "payload"]
    assert json.loads(raw["payload"].iloc[0])  # the venue's JSON, untouched, ready for Parquet
    for symbol in SYMBOLS[venue]:
        got = result.frame[result.frame["symbol"] == symbol].reset_index(drop=True)
        truth = sim.market.candles(sim.market.instrument_by_symbol(venue, symbol, end), "1m", start, end - 1).frame()
        pd.testing.assert_series_equal(got["ts"], truth["ts"].astype("datetime64[ms, UTC]"), check_names=False)
        for column in ("open", "high", "low", "close", "volume"):
            np.testing.assert_array_equal(got[column].to_numpy(), truth[column].to_numpy())
    assert str(result.frame["ts"].dt.tz) == "UTC"


def test_fetch_ohlcv_reports_missing_candles_as_gaps(sim):
    listed = sim.market.instrument_by_symbol("binance", "BTC/USDT:USDT", int(pd.Timestamp.now(tz="UTC").value // 10**6))
    start = listed.listed_ms - 10 * 60_000  # ten minutes before the market existed
    with client("binance", sim) as vc:
        result = fetch_ohlcv(vc, "BTC/USDT:USDT", "1m", start, start + 30 * 60_000)
    assert len(result.frame) == 20
    assert result.missing == 10
    assert result.gaps[0].start == pd.Timestamp(start, unit="ms", tz="UTC")
    assert result.gaps[0].end == pd.Timestamp(listed.listed_ms, unit="ms", tz="UTC")


@pytest.mark.parametrize(("venue", "hours", "rows"), [("deribit", 1, 48), ("binance", 8, 6), ("bybit", 8, 6)])
def test_fetch_funding_history_units_and_truth(sim, past_day, venue, hours, rows):
    start, end = past_day
    symbol = SYMBOLS[venue][0] if venue != "bybit" else "BTC/USDT:USDT"
    result = fetch_funding_history(
        venue, symbol, start - 86_400_000, end, source="simulator", simulator_url=sim.url, page_limit=20
    )
    assert_schema(result.frame, FUNDING)
    assert result.gaps == [] and len(result.frame) == rows
    truth = sim.market.funding(sim.market.instrument_by_symbol(venue, symbol, end), start - 86_400_000, end - 1)
    np.testing.assert_array_equal(result.frame["rate"].to_numpy(), truth.rate)  # Deribit: interest_1h
    assert (result.frame["interval_hours"] == hours).all()


def test_fetch_open_interest_converts_units(sim):
    deribit = fetch_open_interest("deribit", "BTC/USD:BTC", source="simulator", simulator_url=sim.url).frame
    binance = fetch_open_interest("binance", "BTC/USDT:USDT", source="simulator", simulator_url=sim.url).frame
    for frame in (deribit, binance):
        assert_schema(frame, OPEN_INTEREST)
    d = deribit.iloc[0]
    inst = sim.market.instrument("deribit", "future", "BTC-PERPETUAL")
    usd = float(sim.market.open_interest(inst, int(d["ts"].value // 10**6))[0])
    assert d["oi_usd"] == usd  # Deribit counts USD for inverse contracts
    assert d["oi_contracts"] == usd / 10.0  # 10 USD per BTC-PERPETUAL contract
    assert d["oi_base"] == pytest.approx(usd / sim.market.index_price("BTC", int(d["ts"].value // 10**6)), rel=2e-3)
    b = binance.iloc[0]
    inst = sim.market.instrument("binance", "usdm", "BTCUSDT")
    base = float(sim.market.open_interest(inst, int(b["ts"].value // 10**6))[0])
    assert b["oi_base"] == b["oi_contracts"] == base
    assert b["oi_usd"] == pytest.approx(base * sim.market.index_price("BTC", int(b["ts"].value // 10**6)), rel=2e-3)


def test_fetch_open_interest_history_and_its_absence_on_deribit(sim):
    now = int(pd.Timestamp.now(tz="UTC").value // 10**6)
    start = (now // 3_600_000 - 30) * 3_600_000
    result = fetch_open_interest(
        "bybit",
        "BTC/USDT:USDT",
        start,
        start + 24 * 3_600_000,
        timeframe="1h",
        source="simulator",
        simulator_url=sim.url,
    )
    assert len(result.frame) == 24 and result.gaps == []
    inst = sim.market.instrument("bybit", "linear", "BTCUSDT")
    ts = (result.frame["ts"].astype("int64")).to_numpy()
    np.testing.assert_array_equal(result.frame["oi_base"].to_numpy(), sim.market.open_interest(inst, ts))
    assert result.frame["oi_usd"].isna().all()  # Bybit's history has no value and no price
    with pytest.raises(UnsupportedRequestError):
        fetch_open_interest(
            "deribit", "BTC/USD:BTC", start, start + 3_600_000, source="simulator", simulator_url=sim.url
        )


def test_deribit_option_chain_units(sim):
    result = fetch_option_chain("deribit", "BTC", expiries=1, source="simulator", simulator_url=sim.url)
    frame = result.frame
    assert_schema(frame, OPTION_QUOTES)
    assert len(frame) >= 30 and frame["expiry"].nunique() == 1
    assert (frame["premium_currency"] == "BTC").all()
    np.testing.assert_allclose(frame["mark_usd"], frame["mark"] * frame["underlying_price"])
    with_bid = frame.dropna(subset=["bid"])
    np.testing.assert_allclose(with_bid["bid_usd"], with_bid["bid"] * with_bid["underlying_price"])
    assert frame["mark_iv"].between(0.05, 3.0).all()  # decimal, not percent
    assert frame["delta"].notna().all() and frame["vega"].notna().all()
    for row in frame.itertuples():
        truth = (
            sim.market.option_quotes("deribit", "BTC", int(row.ts.value // 10**6)).set_index("symbol").loc[row.symbol]
        )
        assert row.mark_iv == pytest.approx(round(truth["iv"] * 100, 2) / 100, abs=1e-12)
        assert row.delta == round(truth["delta"], 5)
        # USD on the forward; the coin mark is published with 8 decimals
        assert row.mark_usd == pytest.approx(truth["model_usd"], abs=5e-9 * row.underlying_price)
        assert row.time_to_expiry == pytest.approx(truth["tau"], abs=1.0 / (365 * 86_400))
    assert len(result.raw) == 1 + len(frame)  # the book summary plus one ticker per option


def test_bybit_option_chain_units(sim):
    frame = fetch_option_chain("bybit", "BTC", source="simulator", simulator_url=sim.url).frame
    assert_schema(frame, OPTION_QUOTES)
    assert frame["expiry"].nunique() >= 8
    assert (frame["premium_currency"] == "USDT").all()
    np.testing.assert_array_equal(frame["mark_usd"], frame["mark"])
    assert frame["mark_iv"].between(0.05, 3.0).all()
    assert frame.loc[frame["bid"].isna(), "bid_iv"].isna().all()  # no bid, no bid IV (Bybit sends "0")
    assert (frame["underlying_price"] > 0).all() and frame["gamma"].notna().all()


def test_fetch_instruments_flags_inverse_and_linear(sim):
    frames = {
        v: fetch_instruments(v, source="simulator", simulator_url=sim.url).frame
        for v in ("deribit", "binance", "bybit")
    }
    for frame in frames.values():
        assert_schema(frame, INSTRUMENTS)
    deribit = frames["deribit"].set_index("symbol")
    assert deribit.loc["BTC/USD:BTC", "is_inverse"] and deribit.loc["BTC/USD:BTC", "contract_size"] == 10.0
    assert deribit.loc["BTC/USD:BTC", "funding_interval_hours"] == 1
    assert pd.isna(deribit.loc["BTC/USD:BTC", "expiry"])
    assert deribit.loc["BTC/USDC", "kind"] == "spot" and not deribit.loc["BTC/USDC", "is_inverse"]
    options = frames["deribit"][frames["deribit"]["kind"] == "option"]
    assert options["is_inverse"].all() and set(options["settle"]) == {"BTC", "ETH"}
    binance = frames["binance"].set_index("symbol")
    assert binance.loc["BTC/USDT:USDT", "is_linear"] and binance.loc["BTC/USDT:USDT", "funding_interval_hours"] == 8
    futures = frames["binance"][frames["binance"]["kind"] == "future"]
    assert len(futures) >= 4 and futures["expiry"].notna().all()
    bybit = frames["bybit"]
    assert bybit.loc[bybit["kind"] == "option", "is_linear"].all()


def test_fetch_trades_pages_a_busy_hour_and_converts_inverse_amounts(sim):
    now = int(pd.Timestamp.now(tz="UTC").value // 10**6)
    start = (now // 3_600_000 - 3) * 3_600_000
    end = start + 45 * 60_000
    binance = fetch_trades("binance", "BTC/USDT:USDT", start, end, source="simulator", simulator_url=sim.url)
    assert_schema(binance.frame, TRADES)
    truth = sim.market.trades(sim.market.instrument("binance", "usdm", "BTCUSDT"), start, end - 1)
    assert len(truth) > 1000  # more than one page
    assert binance.frame["trade_id"].tolist() == [str(i) for i in truth.id]
    np.testing.assert_array_equal(binance.frame["amount"].to_numpy(), truth.base_amount)
    deribit = fetch_trades(
        "deribit", "BTC/USD:BTC", start, start + 10 * 60_000, source="simulator", simulator_url=sim.url
    ).frame
    truth = sim.market.trades(
        sim.market.instrument("deribit", "future", "BTC-PERPETUAL"), start, start + 10 * 60_000 - 1
    )
    np.testing.assert_allclose(deribit["amount"].to_numpy(), truth.amount / truth.price)  # USD contracts -> BTC


def test_fetch_futures_quotes_basis(sim):
    with client("binance", sim) as vc:
        futures = [s for s, m in vc.markets().items() if m["future"] and m["base"] == "BTC"]
        result = fetch_futures_quotes(vc, ["BTC/USDT:USDT", *futures])
    frame = result.frame
    assert_schema(frame, FUTURES_QUOTES)
    np.testing.assert_allclose(frame["basis"], frame["mark_price"] - frame["index_price"])
    dated = frame[frame["kind"] == "future"]
    assert dated["basis_apr"].between(0.0, 0.3).all()  # the simulated term structure is in contango
    assert frame.loc[frame["kind"] == "perpetual", "basis_apr"].isna().all()
    deribit = fetch_futures_quotes("deribit", ["BTC/USD:BTC"], source="simulator", simulator_url=sim.url).frame
    assert deribit["bid"].iloc[0] < deribit["ask"].iloc[0]
