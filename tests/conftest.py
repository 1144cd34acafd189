"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_MARKET_DIR = PROJECT_ROOT.parent / "shared" / "data" / "market"


@pytest.fixture(scope="session")
def shared_market_dir() -> Path:
    """``../shared/data/market``: real published market data; skip the test when it is absent."""
    if not SHARED_MARKET_DIR.is_dir():
        pytest.skip(f"real market data not found at {SHARED_MARKET_DIR} (../shared/data is not checked out)")
    return SHARED_MARKET_DIR
