"""Fixtures of the calibration integration tests: a simulator with a movable clock, option-chain snapshots
ingested through the real pipeline into the test database, and a private MLflow store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from cryptoderiv.config import get_settings
from cryptoderiv.ingest import pipelines
from cryptoderiv.simulator import SimulatorServer

DAY_MS = 86_400_000
DAY_START = (int(time.time() * 1000) // DAY_MS - 2) * DAY_MS  # a complete day in the past


@dataclass
class Clock:
    """The simulator's present (ms UTC), moved by the fixtures to take snapshots at chosen times."""

    now_ms: int

    def __call__(self) -> int:
        return self.now_ms


@dataclass(frozen=True)
class Snapshots:
    """Snapshot times (ms UTC) taken into the test database, and the simulator that served them."""

    sim: SimulatorServer
    bybit_btc: tuple[int, int]     # two Bybit BTC snapshots, 15 minutes apart (all expiries)
    deribit_eth: int               # one Deribit ETH snapshot (nearest 5 expiries; inverse premiums)


@pytest.fixture(scope="module")
def snapshots(database_url: str) -> Iterator[Snapshots]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        conn.execute("TRUNCATE instruments, option_quotes, ingest_runs, model_runs, heston_params CASCADE")
        conn.commit()
    clock = Clock(DAY_START + DAY_MS - 3_600_000)
    first, second = clock.now_ms, clock.now_ms + 900_000
    eth = clock.now_ms + 1_800_000
    with SimulatorServer(seed=11, clock=clock) as sim:
        for at, venue, underlying, expiries in ((first, "bybit", "BTC", None), (second, "bybit", "BTC", None),
                                                (eth, "deribit", "ETH", 5)):
            clock.now_ms = at
            pipelines.ingest_option_chain(
                database_url, venue, underlying, pd.Timestamp(at - 900_000, unit="ms", tz="UTC"),
                pd.Timestamp(at + 1, unit="ms", tz="UTC"), f"calib-test-{at}", expiries=expiries,
                source="simulator", simulator_url=sim.url)
        yield Snapshots(sim, (first, second), eth)


@pytest.fixture()
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private sqlite MLflow tracking store for one test (settings read it from MLFLOW_TRACKING_URI)."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_UI_URL", "http://mlflow.test:5000")
    get_settings.cache_clear()
    yield uri
    get_settings.cache_clear()


@pytest.fixture()
def clean_model_tables(database_url: str) -> Callable[[], None]:
    """Empties ``model_runs`` and ``heston_params`` (call at the start of a test)."""
    import psycopg

    def clean() -> None:
        with psycopg.connect(database_url) as conn:
            conn.execute("TRUNCATE model_runs, heston_params")
            conn.commit()

    return clean
