"""URL rewriting, pagination windows, gap detection, retry policy, schemas."""

from __future__ import annotations

import random

import ccxt
import numpy as np
import pandas as pd
import pytest

from cryptoderiv.exchanges import RetryPolicy, make_client, rewrite_url
from cryptoderiv.exchanges.errors import ExchangeAccessError, MalformedResponse
from cryptoderiv.exchanges.pagination import find_gaps, snap, to_ms, windows
from cryptoderiv.exchanges.retry import Retrier
from cryptoderiv.exchanges.schemas import ALL_SCHEMAS, CANDLES

SIM = "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://fapi.binance.com/fapi/v1", SIM + "/fapi.binance.com/fapi/v1"),
        ("wss://stream.binance.com:9443/ws", "ws://127.0.0.1:8765/stream.binance.com/ws"),
        ("https://api.{hostname}", SIM + "/api.bybit.com"),
        ("wss://www.deribit.com/ws/api/v2", "ws://127.0.0.1:8765/www.deribit.com/ws/api/v2"),
    ],
)
def test_rewrite_url_keeps_the_host_in_the_path(url, expected):
    assert rewrite_url(url, SIM, "bybit.com") == expected


def test_clients_point_every_url_at_the_simulator():
    for venue in ("deribit", "binance", "bybit"):
        for flavour in ("sync", "pro"):
            client = make_client(venue, "simulator", simulator_url=SIM, flavour=flavour)
            urls = []

            def walk(node, urls=urls):
                if isinstance(node, dict):
                    for v in node.values():
                        walk(v)
                elif isinstance(node, str):
                    urls.append(node)

            walk(client.urls["api"])
            assert urls and all("127.0.0.1:8765/" in u for u in urls)
    with pytest.raises(ExchangeAccessError):
        make_client("kraken", "simulator")
    live = make_client("binance", "live")
    assert live.urls["api"]["fapiPublic"] == "https://fapi.binance.com/fapi/v1"
    assert live.options["fetchMarkets"]["types"] == ["spot", "linear"]  # coin-margined hosts are never called


def test_windows_and_gaps():
    assert windows(0, 1000, 100, 4) == [(0, 400), (400, 800), (800, 1000)]
    assert windows(50, 450, 100, 2) == [(100, 300), (300, 450)]
    gaps = find_gaps("X", [0, 100, 400, 500], 0, 800, 100)
    assert [(g.start.value // 10**6, g.end.value // 10**6, g.missing) for g in gaps] == [(200, 400, 2), (600, 800, 2)]
    assert snap(28_800_007, 28_800_000) == 28_800_000 and snap(28_000_000, 28_800_000) is None
    assert to_ms("2026-01-01") == to_ms(pd.Timestamp("2026-01-01", tz="UTC")) == 1_767_225_600_000


def test_backoff_grows_exponentially_with_bounded_jitter_and_honours_retry_after():
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=8.0, jitter=0.5)
    rng = random.Random(0)
    delays = [policy.delay(n, rng) for n in range(1, 7)]
    for n, d in enumerate(delays, start=1):
        cap = min(8.0, 2 ** (n - 1))
        assert cap * 0.5 <= d <= cap
    assert policy.delay(1, rng, retry_after_s=5.0) == 5.0
    assert RetryPolicy(max_retry_after_s=2.0).delay(1, rng, retry_after_s=30.0) == 2.0


class FakeExchange:
    """The few attributes the retrier reads (ccxt's names)."""

    def __init__(self) -> None:
        self.id = "fake"
        setattr(self, "enableRateLimit", False)  # noqa: B010 - ccxt's camelCase attribute
        self.last_response_headers = {"Retry-After": "0"}


def test_only_transient_errors_are_retried():
    retrier = Retrier(RetryPolicy(max_attempts=4, base_delay_s=0.0, jitter=0.0))
    outcomes = iter([ccxt.RequestTimeout("t"), MalformedResponse("m"), ccxt.ExchangeNotAvailable("5xx"), "ok"])

    def request():
        item = next(outcomes)
        if isinstance(item, Exception):
            raise item
        return item

    assert retrier.run(FakeExchange(), "GET /x", request) == "ok"
    assert retrier.stats.calls == 4 and retrier.stats.retries == 3
    with pytest.raises(ccxt.BadSymbol):
        retrier.run(FakeExchange(), "GET /x", lambda: (_ for _ in ()).throw(ccxt.BadSymbol("no such market")))
    assert retrier.stats.calls == 5 and retrier.stats.retries == 3  # not retried


def test_schemas_have_unique_columns_and_keys_in_columns():
    for schema in ALL_SCHEMAS:
        assert len(set(schema.names)) == len(schema.names)
        assert set(schema.key) <= set(schema.names)
    empty = CANDLES.empty()
    assert list(empty.columns) == CANDLES.names and str(empty["ts"].dtype) == "datetime64[ms, UTC]"
    # value defects (a duplicated key, a NaN price) pass on to the quality gate, which quarantines them ...
    twice = CANDLES.conform(pd.concat([_candle(), _candle().assign(close=np.nan)]))
    assert len(twice) == 2 and twice["close"].isna().sum() == 1
    # ... but a row without its key cannot be identified at all
    with pytest.raises(ValueError, match="key column"):
        CANDLES.conform(_candle().assign(ts=pd.Series([pd.NaT], dtype="datetime64[ms, UTC]")))


def _candle():
    return pd.DataFrame(
        {
            "exchange": ["binance"],
            "symbol": ["BTC/USDT"],
            "timeframe": ["1m"],
            "ts": pd.to_datetime([0], unit="ms", utc=True),
            "open": [1.0],
            "high": [1.0],
            "low": [1.0],
            "close": [1.0],
            "volume": [0.0],
        }
    )
