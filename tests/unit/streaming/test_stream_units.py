"""Pure pieces of the sidecar: configuration, normalisation, option selection, spool, metrics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cryptoderiv.errors import ConfigurationError
from cryptoderiv.streaming.events import Tick, Trade, event_time, iso_ms, tick_from_ticker, trade_from_ccxt
from cryptoderiv.streaming.fanout import CHANNEL_PATTERN
from cryptoderiv.streaming.feeds import Backoff, nearest_futures, select_options, sequence_gap
from cryptoderiv.streaming.metrics import StreamMetrics
from cryptoderiv.streaming.spool import Spool
from cryptoderiv.streaming.subscriptions import OptionSubscription, load_config, parse_config
from cryptoderiv.streaming.writer import rows_frame

PROJECT = Path(__file__).resolve().parents[3]


def test_shipped_subscriptions_file_parses():
    config = load_config(PROJECT / "streaming" / "subscriptions.yaml")
    assert {v.venue for v in config.venues} == {"binance", "bybit", "deribit"}
    deribit = config.venue("deribit")
    assert deribit is not None and deribit.options[0].base == "BTC" and deribit.futures == (("BTC", 2),)
    assert config.writer.batch_rows <= config.writer.queue_rows
    assert config.alert_rules_file is not None and config.alert_rules_file.is_file()


@pytest.mark.parametrize("bad", [
    {"venues": {"kraken": {"tickers": ["BTC/USD"]}}},
    {"venues": {"binance": {"ticker": ["BTC/USDT"]}}},
    {"venues": {"binance": {"options": [{"base": "BTC"}]}}},
    {"venues": {"deribit": {"options": [{"base": "BTC", "expiries": ["soon"]}]}}},
    {"venues": {"binance": {"tickers": ["BTC/USDT"]}}, "writer": {"batch_rows": 10, "queue_rows": 5}},
    {"venues": {}},
])
def test_invalid_configurations_are_named(bad):
    with pytest.raises(ConfigurationError):
        parse_config(bad)


def test_deribit_option_ticker_normalised_to_decimal_iv_and_greeks():
    market = {"option": True, "base": "BTC", "expiry": 1_798_185_600_000, "type": "option"}
    ticker = {"symbol": "BTC/USD:BTC-261225-100000-C", "timestamp": 1_795_000_000_123, "bid": 0.05, "ask": 0.06,
              "info": {"mark_iv": 55.5, "mark_price": 0.055, "underlying_price": 95_000.0,
                       "greeks": {"delta": 0.45, "gamma": 1e-5, "vega": 120.0, "theta": -50.0}}}
    tick = tick_from_ticker("deribit", ticker, "ticker", 1_795_000_000_200.0, market)
    assert tick is not None
    assert tick.source == "option" and tick.mark_iv == pytest.approx(0.555) and tick.delta == 0.45
    assert tick.expiry == "2026-12-25" and tick.ts == 1_795_000_000_123 and tick.underlying_price == 95_000.0


def test_binance_event_time_from_e_and_crossed_book_not_stored():
    ticker = {"symbol": "BTC/USDT", "timestamp": None, "bid": 101.0, "ask": 100.0, "info": {"E": 1234}}
    assert event_time("binance", ticker) == 1234
    tick = tick_from_ticker("binance", ticker, "book", 0.0)
    assert tick is not None
    row = tick.row()
    assert row[4] is None and row[6] is None          # bid and ask dropped, the tick is kept


def test_inverse_trade_amount_in_base_units():
    market = {"inverse": True, "type": "swap", "contractSize": 10.0}
    trade = {"symbol": "BTC/USD:BTC", "id": "7", "timestamp": 5, "price": 100_000.0, "amount": 500.0,
             "cost": 0.005, "side": "buy"}
    assert trade_from_ccxt("deribit", trade, market).amount == 0.005
    linear = {"inverse": False, "type": "swap", "contractSize": 0.001}
    assert trade_from_ccxt("binance", {**trade, "amount": 3.0}, linear).amount == pytest.approx(0.003)


def test_trade_sequence_per_venue():
    trade = {"symbol": "BTC/USD:BTC", "id": "308290541", "timestamp": 5, "price": 1.0, "amount": 1.0, "cost": 1.0,
             "info": {"trade_seq": 1207}}
    market = {"inverse": False, "type": "spot"}
    assert trade_from_ccxt("deribit", trade, market).seq == 1207      # per instrument, not the global trade id
    assert trade_from_ccxt("binance", trade, market).seq == 308290541
    assert trade_from_ccxt("bybit", {**trade, "id": "5d873237-519e"}, market).seq is None


def _trades(*seqs: int | None) -> list[Trade]:
    return [Trade("binance", "BTC/USDT", str(s), 1000 + i, 1.0, 1.0, "buy", s) for i, s in enumerate(seqs)]


def test_sequence_gap_anywhere_in_a_message():
    assert sequence_gap(9, _trades(10, 11, 12)) is None
    assert sequence_gap(None, _trades(4, 5)) is None
    assert sequence_gap(9, _trades(11, 12)) == (9, 11)               # between messages
    # trades from before a redial and after it in one watch result: the hole is inside the message
    assert sequence_gap(9, _trades(10, 11, 14, 15)) == (11, 14)
    assert sequence_gap(9, _trades(12, 10, 11)) is None               # order does not matter
    assert sequence_gap(9, _trades(None, None)) is None               # no sequence (Bybit): nothing to say


def test_option_selection_keeps_strikes_around_the_forward():
    expiries = [1_800_000_000_000, 1_810_000_000_000]
    markets = [{"option": True, "base": "BTC", "expiry": e, "strike": k, "symbol": f"BTC-{e}-{k}-{cp}"}
               for e in expiries for k in range(80_000, 121_000, 5_000) for cp in "CP"]
    got = select_options(markets, OptionSubscription("BTC", ("next:1",), 1), 101_000.0, 1_700_000_000_000)
    assert sorted({int(s.split("-")[2]) for s in got}) == [95_000, 100_000, 105_000]
    assert all(s.split("-")[1] == str(expiries[0]) for s in got)
    futures = [{"future": True, "base": "BTC", "expiry": e, "symbol": str(e)} for e in reversed(expiries)]
    assert nearest_futures(futures, "BTC", 1, 0) == [str(expiries[0])]


def test_channel_names_of_the_contract():
    for ok in ("ticker:binance:BTC/USDT", "ticker:binance:BTC/USDT:USDT", "option_marks:deribit:BTC:2026-12-25",
               "alerts", "trades:deribit:BTC/USD:BTC", "ticker:deribit:BTC/USD:BTC-261225"):
        assert CHANNEL_PATTERN.match(ok), ok
    for bad in ("ticker:kraken:BTC/USD", "option_marks:deribit:BTC:25DEC26", "alert", "ticker:binance:"):
        assert not CHANNEL_PATTERN.match(bad), bad


def test_spool_round_trip_in_order(tmp_path: Path):
    spool = Spool(tmp_path)
    frames = [rows_frame("trades", [("binance", "BTC/USDT", str(i), 1000 + i, 1.0, 2.0, None)]) for i in range(3)]
    for f in frames:
        spool.put("trades", f)
    assert len(Spool(tmp_path)) == 3 and spool.rows() == 3
    seen = []
    for path, table, frame in spool.pending():
        assert table == "trades"
        seen.append(frame["trade_id"].iloc[0])
        Spool.done(path)
    assert seen == ["0", "1", "2"] and len(spool) == 0
    assert Spool(tmp_path).put("ticks", frames[0]).name.startswith("000000000001")


def test_rows_frame_types():
    tick = Tick("binance", "BTC/USDT", 1_000, "ticker", 0.0, bid=1.0, ask=2.0)
    frame = rows_frame("ticks", [tick.row()])
    assert frame["ts"].dtype == "int64" and frame["mark_iv"].dtype == "float64" and pd.isna(frame["mark_iv"][0])


def test_metrics_render_prometheus_text():
    m = StreamMetrics()
    m.ticks_in["binance"] += 3
    m.reconnects["bybit"] += 1
    text = m.render()
    assert 'cryptoderiv_stream_ticks_in_total{venue="binance"} 3' in text
    assert 'cryptoderiv_stream_reconnects_total{venue="bybit"} 1' in text
    assert "# TYPE cryptoderiv_stream_clients gauge" in text


def test_backoff_grows_and_resets():
    b = Backoff(0.1, 1.0)
    delays = [b.next_delay() for _ in range(6)]
    assert all(0.05 <= d <= 1.0 for d in delays) and delays[-1] > delays[0]
    b.reset()
    assert b.next_delay() <= 0.1


def test_iso_ms():
    assert iso_ms(0) == "1970-01-01T00:00:00.000Z"
