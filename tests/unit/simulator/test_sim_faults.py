"""Fault specifications and deterministic fault decisions."""

from __future__ import annotations

import json

import pytest

from cryptoderiv.exchanges.errors import MalformedResponse
from cryptoderiv.exchanges.response_checks import check_response
from cryptoderiv.simulator import FaultConfig, SimulatorError
from cryptoderiv.simulator.faults import FaultInjector, drop_field, malformed_body, truncate_body


def test_spec_with_comma_separated_kinds_and_sections():
    config = FaultConfig.parse("rate=0.2,kinds=429,5xx,timeout,malformed,truncated,missing_field;ws_drop_every=50")
    assert config.rate == 0.2
    assert config.kinds == ("429", "5xx", "timeout", "malformed", "truncated", "missing_field")
    assert config.ws_drop_every == 50 and config.active
    assert FaultConfig.parse("").active is False


@pytest.mark.parametrize("spec", ["rate=2", "kinds=teapot", "rate=0.1,bogus=1", "rate=abc", "rate=0.1,stray"])
def test_bad_specs_raise_one_line_errors(spec):
    with pytest.raises(SimulatorError):
        FaultConfig.parse(spec)


def test_decisions_are_deterministic_and_retries_are_new_draws():
    config = FaultConfig.parse("rate=0.3,kinds=429,5xx;seed=9")
    first, second = FaultInjector(config), FaultInjector(config)
    keys = [f"GET /x?page={i}" for i in range(2000)]
    a = [first.decide(k) for k in keys]
    b = [second.decide(k) for k in keys]
    assert a == b
    assert 0.25 < sum(x is not None for x in a) / len(a) < 0.35
    retried = [first.decide(k) for k in keys]  # second arrival of each request
    assert retried != a
    other = FaultInjector(config.with_(seed=10))
    assert [other.decide(k) for k in keys] != a


def test_body_faults_are_all_caught_by_the_response_check():
    payload = [[1, "1", "2", "0.5", "1.5", "10", 2, "15", 3, "5", "7", "0"] for _ in range(5)]
    url = "http://127.0.0.1:1/fapi.binance.com/fapi/v1/klines"
    body = json.dumps(payload)
    check_response(200, url, body, payload)
    with pytest.raises(MalformedResponse):
        check_response(200, url, malformed_body("k"), None)
    truncated = truncate_body(body, "k")
    with pytest.raises(ValueError):
        json.loads(truncated)
    dropped, what = drop_field(payload, "k")
    assert what.endswith("[-1]")
    with pytest.raises(MalformedResponse):
        check_response(200, url, json.dumps(dropped), dropped)
    deribit = {
        "jsonrpc": "2.0",
        "result": {
            "status": "ok",
            "ticks": [1],
            "open": [1.0],
            "high": [1.0],
            "low": [1.0],
            "close": [1.0],
            "volume": [0.0],
        },
    }
    dropped, what = drop_field(deribit, "chart")
    durl = "http://127.0.0.1:1/www.deribit.com/api/v2/public/get_tradingview_chart_data"
    with pytest.raises(MalformedResponse):
        check_response(200, durl, json.dumps(dropped), dropped)
