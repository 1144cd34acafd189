"""Fixtures of the exchange-layer integration tests: a simulator started by the tests, clients pointing at it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from cryptoderiv.simulator import SimulatorServer

SEED = 7
DAY_MS = 86_400_000


@pytest.fixture(scope="session")
def sim() -> Iterator[SimulatorServer]:
    """One fault-free simulator for the session (127.0.0.1, ephemeral port)."""
    with SimulatorServer(seed=SEED, ws_interval_s=0.1) as server:
        yield server


@pytest.fixture(scope="session")
def past_day() -> tuple[int, int]:
    """``[start, end)`` of the UTC day before yesterday, in ms (complete, in the past)."""
    start = (int(time.time() * 1000) // DAY_MS - 2) * DAY_MS
    return start, start + DAY_MS
