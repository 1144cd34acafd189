"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_MARKET_DIR = PROJECT_ROOT.parent / "shared" / "data" / "market"


@pytest.fixture(scope="session")
def shared_market_dir() -> Path:
    """``../shared/data/market``: real published market data; skip the test when it is absent."""
    if not SHARED_MARKET_DIR.is_dir():
        pytest.skip(f"real market data not found at {SHARED_MARKET_DIR} (../shared/data is not checked out)")
    return SHARED_MARKET_DIR


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, migrated database for this test run (on the local cluster or DATABASE_URL's server),
    dropped at the end. Tests never touch the demo database."""
    import psycopg
    from psycopg import sql

    from cryptoderiv.config import get_settings
    from cryptoderiv.storage.database import ensure_database
    from cryptoderiv.storage.migrations import migrate

    server_url = ensure_database(get_settings())
    name = f"cryptoderiv_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture()
def db(database_url: str) -> Iterator[Any]:
    """A connection to the test database; market tables are emptied before each test."""
    import psycopg

    with psycopg.connect(database_url, options="-c timezone=UTC") as conn:
        conn.execute("TRUNCATE instruments, ohlcv, trades, funding_rates, open_interest, futures_quotes,"
                     " option_quotes RESTART IDENTITY")
        conn.commit()
        yield conn
