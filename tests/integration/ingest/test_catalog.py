"""Instrument catalog sync: listings, expiries and delistings, idempotent for the same as-of time."""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest

from cryptoderiv.errors import ContractViolation
from cryptoderiv.ingest.catalog import sync_instruments

DAY1 = pd.Timestamp("2026-11-01T00:00Z")
DAY2 = pd.Timestamp("2026-11-02T00:00Z")


def listing(*strikes: float, expiry: str = "2026-11-27T08:00Z") -> pd.DataFrame:
    perp = {"exchange": "deribit", "symbol": "BTC/USD:BTC", "kind": "perpetual", "base": "BTC", "quote": "USD",
            "settle": "BTC", "is_inverse": True, "contract_size": 10.0, "funding_interval_hours": 8,
            "expiry": pd.NaT, "strike": None, "option_type": None}
    options = [{"exchange": "deribit", "symbol": f"BTC/USD:BTC-261127-{k:.0f}-C", "kind": "option", "base": "BTC",
                "quote": "USD", "settle": "BTC", "is_inverse": True, "contract_size": 1.0,
                "funding_interval_hours": None, "expiry": pd.Timestamp(expiry), "strike": k, "option_type": "call"}
               for k in strikes]
    frame = pd.DataFrame([perp, *options])
    frame["expiry"] = pd.to_datetime(frame["expiry"], utc=True)
    return frame.astype({"funding_interval_hours": "Int16", "strike": "float64"})


def catalog(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute("SELECT symbol, active, listed_at, delisted_at FROM instruments ORDER BY symbol").fetchall()


def test_listing_then_delisting_then_relisting(db: psycopg.Connection) -> None:
    first = sync_instruments(db, "deribit", listing(90_000, 100_000), DAY1)
    assert (first.listed, first.new, first.delisted) == (3, 3, 0)
    snapshot = catalog(db)
    again = sync_instruments(db, "deribit", listing(90_000, 100_000), DAY1)
    assert (again.new, again.delisted) == (0, 0)
    assert catalog(db) == snapshot  # idempotent for the same as-of time

    second = sync_instruments(db, "deribit", listing(100_000, 110_000), DAY2)
    assert (second.new, second.delisted) == (1, 1)
    rows = {symbol: (active, listed, delisted) for symbol, active, listed, delisted in catalog(db)}
    assert rows["BTC/USD:BTC-261127-90000-C"] == (False, DAY1, DAY2)
    assert rows["BTC/USD:BTC-261127-110000-C"] == (True, DAY2, None)
    assert rows["BTC/USD:BTC-261127-100000-C"] == (True, DAY1, None)  # first seen day 1

    back = sync_instruments(db, "deribit", listing(90_000, 100_000, 110_000), DAY2 + pd.Timedelta(days=1))
    assert back.delisted == 0
    assert catalog(db)[1][1:] == (True, DAY1, None)  # 90000-C listed again


def test_expired_instruments_are_inactive(db: psycopg.Connection) -> None:
    result = sync_instruments(db, "deribit", listing(90_000, expiry="2026-10-30T08:00Z"), DAY1)
    assert result.delisted == 1
    assert db.execute("SELECT active FROM instruments WHERE kind = 'option'").fetchone() == (False,)


def test_an_empty_or_mixed_listing_is_refused(db: psycopg.Connection) -> None:
    with pytest.raises(ContractViolation, match="empty instrument listing"):
        sync_instruments(db, "deribit", listing().iloc[:0], DAY1)
    mixed = listing(90_000)
    mixed.loc[0, "exchange"] = "bybit"
    with pytest.raises(ContractViolation, match="other exchanges"):
        sync_instruments(db, "deribit", mixed, DAY1)
    assert catalog(db) == []
