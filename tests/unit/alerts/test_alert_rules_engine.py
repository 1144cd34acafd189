"""Alert rules and the live engine on hand-built tick sequences (expected values worked out in the comments)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptoderiv.alerts.engine import LiveAlertEngine, _OptionMark, risk_reversal_25d
from cryptoderiv.alerts.notify import email_message
from cryptoderiv.alerts.rules import AlertRule, load_rules_yaml, merge_rules, rule_from_mapping
from cryptoderiv.errors import ConfigurationError
from cryptoderiv.streaming.events import Tick

PROJECT = Path(__file__).resolve().parents[3]


def tick(ts: int, price: float, **kw) -> Tick:
    return Tick(kw.pop("exchange", "binance"), kw.pop("symbol", "BTC/USDT"), ts, kw.pop("source", "ticker"), 0.0,
                bid=price, ask=price, **kw)


def test_shipped_rules_file_is_valid():
    rules = load_rules_yaml(PROJECT / "streaming" / "alert_rules.yaml")
    assert {r.kind for r in rules} == {"price_move", "iv_spike", "skew_flip", "funding_above", "basis_inversion"}


@pytest.mark.parametrize("node", [
    {"name": "x", "kind": "nope"},
    {"name": "x", "kind": "price_move", "params": {"venue": "binance"}},
    {"name": "x", "kind": "funding_above", "params": {"venue": "b", "symbol": "s", "threshold": 0.1},
     "channels": ["webhook"]},
    {"name": "x", "kind": "dq_failure", "severity": "fatal"},
])
def test_invalid_rules_rejected(node):
    with pytest.raises(ConfigurationError):
        rule_from_mapping(node)


def test_price_move_over_window_with_cooldown():
    rule = AlertRule("m", "price_move", {"venue": "binance", "symbol": "BTC/USDT", "window_s": 60, "threshold": 0.01},
                     cooldown_s=120)
    engine = LiveAlertEngine([rule])
    assert engine.on_tick(tick(0, 100.0)) == []
    assert engine.on_tick(tick(30_000, 100.9)) == []          # +0.9 % < 1 %
    fired = engine.on_tick(tick(50_000, 101.2))               # +1.2 % vs the price 50 s ago
    assert len(fired) == 1 and fired[0][1].value == pytest.approx(0.012)
    assert engine.on_tick(tick(60_000, 101.5)) == []          # cool-down (120 s)
    # the reference is the last price known at t - window: at 200 s that is 101.5 (from 60 s): +0.1 %
    assert engine.on_tick(tick(200_000, 101.6)) == []
    fired = engine.on_tick(tick(230_000, 99.0))               # vs 101.5 (price as of 170 s): -2.46 %
    assert len(fired) == 1 and fired[0][1].value == pytest.approx(99.0 / 101.5 - 1)


def option(ts: int, symbol: str, delta: float, iv: float) -> Tick:
    return Tick("deribit", symbol, ts, "option", 0.0, mark_iv=iv, delta=delta, expiry="2026-12-25", base="BTC")


def test_iv_spike_and_skew_flip():
    spike = AlertRule("s", "iv_spike", {"venue": "deribit", "base": "BTC", "window_s": 600, "threshold": 0.05})
    flip = AlertRule("f", "skew_flip", {"venue": "deribit", "base": "BTC", "min_abs": 0.005})
    engine = LiveAlertEngine([spike, flip])
    # RR25 = 0.50 - 0.55 = -0.05 (puts over calls): the first sign, nothing to flip from
    assert engine.on_tick(option(0, "C25-C", 0.25, 0.50)) == []
    assert engine.on_tick(option(1, "P25-P", -0.25, 0.55)) == []
    assert engine.on_tick(option(2, "C50-C", 0.50, 0.52)) == []
    # ATM 0.52 -> 0.58: +6 vol points within 10 min -> spike
    fired = engine.on_tick(option(60_000, "C50-C", 0.52, 0.58))
    assert [r.name for r, _ in fired] == ["s"] and fired[0][1].value == pytest.approx(0.06)
    # call wing repriced to 0.60: RR25 = +0.05 -> flip to calls over puts
    fired = engine.on_tick(option(61_000, "C25-C", 0.24, 0.60))
    assert [r.name for r, _ in fired] == ["f"] and fired[0][1].value == pytest.approx(0.05)
    assert risk_reversal_25d([_OptionMark(0.5, 0.5, True)]) is None   # no wings, no figure


def test_funding_and_basis_inversion():
    funding = AlertRule("fu", "funding_above", {"venue": "bybit", "symbol": "BTC/USDT:USDT", "threshold": 0.001})
    basis = AlertRule("b", "basis_inversion", {"venue": "bybit", "symbol": "BTC/USDT:USDT", "threshold": 0.002},
                      cooldown_s=0)
    engine = LiveAlertEngine([funding, basis])
    t = tick(0, 100.0, exchange="bybit", symbol="BTC/USDT:USDT", funding_rate=0.0005, index_price=100.1)
    assert engine.on_tick(t) == []                            # basis -0.1 % > -0.2 %; funding below
    t = tick(1, 99.7, exchange="bybit", symbol="BTC/USDT:USDT", funding_rate=0.0015, index_price=100.0)
    fired = {r.name: a for r, a in engine.on_tick(t)}
    assert set(fired) == {"fu", "b"} and fired["b"].value == pytest.approx(-0.003)
    assert fired["b"].subject == "bybit:BTC/USDT:USDT" and fired["b"].dedup_key == "b:bybit:BTC/USDT:USDT"


def test_merge_later_source_wins_and_email_text():
    a = AlertRule("x", "dq_failure", severity="info")
    b = AlertRule("x", "dq_failure", severity="critical")
    assert merge_rules([a], [b]) == [b]
    msg = email_message(
        __import__("cryptoderiv.alerts.store", fromlist=["Alert"]).Alert(
            "x", "dq_failure", "critical", "t:r", __import__("datetime").datetime(2026, 1, 1), "broken", 3.0),
        ("a@example.com",))
    assert msg["Subject"] == "[cryptoderiv critical] x: t:r" and "value: 3" in msg.get_content()
