"""The dashboard's role reads published tables and cannot change anything."""

from __future__ import annotations

import psycopg
import pytest

from cryptoderiv.storage.migrations import dashboard_url


def test_dashboard_role_can_read_but_not_write(database_url: str, db: psycopg.Connection) -> None:
    db.execute("INSERT INTO instruments (exchange, symbol, kind, base, quote)"
               " VALUES ('binance', 'BTC/USDT', 'spot', 'BTC', 'USDT')")
    db.commit()
    with psycopg.connect(dashboard_url(database_url), autocommit=True) as reader:
        assert reader.execute("SELECT current_user").fetchone() == ("cryptoderiv_dashboard",)
        assert reader.execute("SELECT count(*) FROM instruments").fetchone() == (1,)
        reader.execute("SELECT count(*) FROM ohlcv_1h")  # a published view is readable (raises if not)
        for statement in (
            "INSERT INTO instruments (exchange, symbol, kind, base, quote) VALUES ('bybit', 'X', 'spot', 'X', 'Y')",
            "UPDATE instruments SET active = false",
            "DELETE FROM ohlcv",
            "TRUNCATE option_quotes",
            "CREATE TABLE sneaky (x int)",
            "SELECT count(*) FROM schema_migrations",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(statement)
    assert db.execute("SELECT count(*) FROM instruments").fetchone() == (1,)


def test_dashboard_role_needs_its_password(database_url: str) -> None:
    wrong = dashboard_url(database_url).replace("cryptoderiv_dashboard:", "cryptoderiv_dashboard:wrong", 1)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong).close()
