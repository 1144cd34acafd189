"""Reliability: paginated fetches through injected faults lose nothing and duplicate nothing; a malformed answer
is retried, never returned."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from cryptoderiv.exchanges import ExchangeAccessError, RetryPolicy, VenueClient, fetch_ohlcv
from cryptoderiv.simulator import FaultConfig, SimulatorServer

logger = logging.getLogger(__name__)

FAULTS = "rate=0.2,kinds=429,5xx,timeout,malformed,truncated,missing_field;timeout_s=1.2;seed=5"
POLICY = RetryPolicy(max_attempts=8, base_delay_s=0.02, max_delay_s=0.2, max_retry_after_s=0.05, seed=1)
CASES = {"binance": ["BTC/USDT", "ETH/USDT:USDT"], "bybit": ["ETH/USDT", "BTC/USDT:USDT"]}


def test_one_day_of_1m_candles_through_20_percent_faults_is_exact(past_day):
    start, end = past_day
    with SimulatorServer(seed=7, faults=FAULTS) as server:
        figures = {}
        for venue, symbols in CASES.items():
            with VenueClient(venue, source="simulator", simulator_url=server.url, retry=POLICY, timeout_ms=800) as vc:
                result = fetch_ohlcv(vc, symbols, "1m", start, end, page_limit=200)
            assert result.missing == 0 and result.gaps == []
            assert result.duplicates == 0
            for symbol in symbols:
                got = result.frame[result.frame["symbol"] == symbol]
                truth = server.market.candles(
                    server.market.instrument_by_symbol(venue, symbol, end), "1m", start, end - 1
                )
                assert len(got) == 1440
                np.testing.assert_array_equal(got["ts"].astype("int64").to_numpy(), truth.ts)
                for column in ("open", "high", "low", "close", "volume"):
                    np.testing.assert_array_equal(got[column].to_numpy(), getattr(truth, column))
            figures[venue] = (result.stats.calls, result.stats.retries, dict(result.stats.failures))
        injected = server.faults.injected
        logger.info("fault run: %s; injected %s", figures, dict(injected))
        assert sum(injected.values()) >= 8
        assert len(injected) >= 4  # several kinds met, not just one
        retries = sum(r for _, r, _ in figures.values())
        # every fault was retried, except a dropped field no parser reads (harmless, so not rejected)
        assert sum(injected.values()) - injected["missing_field"] <= retries <= sum(injected.values())


def test_malformed_answers_are_retried_never_returned(past_day):
    start, _ = past_day
    with SimulatorServer(seed=7) as server:
        vc = VenueClient(
            "binance",
            source="simulator",
            simulator_url=server.url,
            retry=RetryPolicy(max_attempts=3, base_delay_s=0.01, seed=1),
        )
        vc.markets()
        server.faults.configure(FaultConfig.parse("rate=1.0,kinds=malformed,truncated,missing_field"))
        before = vc.stats.copy()
        with pytest.raises(ExchangeAccessError, match="MalformedResponse"):
            fetch_ohlcv(vc, "BTC/USDT", "1m", start, start + 60 * 60_000)
        failed = vc.stats.since(before)
        assert failed.calls == 3 and failed.failures["MalformedResponse"] == 3
        server.faults.configure(server.faults.config.with_(rate=0.5))
        vc = VenueClient(
            "binance",
            source="simulator",
            simulator_url=server.url,
            retry=RetryPolicy(max_attempts=12, base_delay_s=0.01, max_delay_s=0.02, seed=1),
        )
        result = fetch_ohlcv(vc, "BTC/USDT", "1m", start, start + 600 * 60_000, page_limit=50)
        assert len(result.frame) == 600 and result.missing == 0
        assert result.stats.failures["MalformedResponse"] >= 3
