"""Migrations: applied once each, re-running is a no-op, edited history is refused; partitions."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from cryptoderiv.errors import DatabaseError
from cryptoderiv.storage.migrations import MIGRATIONS_DIR, applied_versions, discover, migrate


@pytest.fixture()
def scratch_url(database_url: str):
    """An empty database of its own (migrations are tested from scratch)."""
    name = "cryptoderiv_test_scratch"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield database_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_migrate_applies_every_file_once_and_then_is_a_no_op(scratch_url: str) -> None:
    files = discover()
    assert [m.version for m in files] == sorted(m.version for m in files)
    applied = migrate(scratch_url)
    assert applied == [m.name for m in files]
    assert applied_versions(scratch_url) == [m.version for m in files]
    assert migrate(scratch_url) == []
    with psycopg.connect(scratch_url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"instruments", "ohlcv", "trades", "funding_rates", "open_interest", "futures_quotes",
            "option_quotes", "schema_migrations"} <= tables


def test_an_applied_migration_that_was_edited_is_refused(scratch_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    migrate(scratch_url, directory=directory)
    first = sorted(directory.glob("*.sql"))[1]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(DatabaseError, match="changed after it was applied"):
        migrate(scratch_url, directory=directory)


def test_a_failing_migration_leaves_nothing_behind(scratch_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    (directory / "900_broken.sql").write_text("CREATE TABLE half_done (x int);\nSELECT no_such_function();\n")
    with pytest.raises(DatabaseError, match="900_broken failed"):
        migrate(scratch_url, directory=directory)
    with psycopg.connect(scratch_url) as conn:
        assert conn.execute("SELECT to_regclass('half_done')").fetchone() == (None,)
    assert 900 not in applied_versions(scratch_url)


def test_badly_named_migration_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "1_init.sql").write_text("SELECT 1;")
    with pytest.raises(DatabaseError, match="NNN_lower_snake"):
        discover(tmp_path)


def test_partitions_are_created_ahead_and_rows_leave_the_default_partition(db: psycopg.Connection) -> None:
    db.execute("INSERT INTO instruments (exchange, symbol, kind, base, quote)"
               " VALUES ('binance', 'X/USDT', 'spot', 'X', 'USDT')")
    # A row lands in the default partition while its month has no partition yet ...
    db.execute("INSERT INTO ohlcv VALUES (1, '1m', '2031-05-10T00:00Z', 1, 1, 1, 1, 0)")
    assert db.execute("SELECT count(*) FROM ohlcv_default").fetchone() == (1,)
    # ... and moves into the partition when the maintenance function creates it.
    created = db.execute("SELECT cd_ensure_partitions('ohlcv', '2031-04-15Z', '2031-06-01Z')").fetchone()
    assert created == (3,)
    assert db.execute("SELECT count(*) FROM ohlcv_default").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM ohlcv_p20310501").fetchone() == (1,)
    assert db.execute("SELECT cd_ensure_partitions('ohlcv', '2031-04-15Z', '2031-06-01Z')").fetchone() == (0,)
    weekly = db.execute("SELECT cd_partition_floor('2031-05-14T12:00Z', interval '7 days')").fetchone()[0]
    assert weekly.isoweekday() == 1  # weekly partitions start on Mondays
    db.rollback()


def test_maintenance_creates_partitions_ahead_and_applies_retention(
        database_url: str, db: psycopg.Connection) -> None:
    from cryptoderiv.storage.rollups import maintain_time_tables

    db.execute("SELECT cd_ensure_partitions('trades', now() - interval '800 days', now() - interval '790 days')")
    db.execute("SELECT cd_ensure_partitions('trades', now() - interval '30 days', now() - interval '20 days')")
    db.commit()
    old = db.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'trades'::regclass").fetchone()[0]
    done = maintain_time_tables(database_url, ahead_days=35)
    report = {table: (created, dropped) for table, created, dropped in done}
    assert report["trades"][1] >= 2  # the partitions of 800..790 days ago are past the 730-day retention
    assert report["ohlcv"][1] == 0   # no retention on candles
    n_after = db.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'trades'::regclass").fetchone()[0]
    assert n_after == old - report["trades"][1] + report["trades"][0]
    # A row 34 days ahead lands in a real partition, not in the default one.
    db.execute("INSERT INTO instruments (exchange, symbol, kind, base, quote)"
               " VALUES ('binance', 'X/USDT', 'spot', 'X', 'USDT')")
    db.execute("INSERT INTO trades VALUES (1, 't1', now() + interval '34 days', 1, 1, 'buy')")
    assert db.execute("SELECT count(*) FROM trades_default").fetchone() == (0,)
    assert maintain_time_tables(database_url, ahead_days=35) == [(t, 0, 0) for t in sorted(report)]
    db.rollback()
