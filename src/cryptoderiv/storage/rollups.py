"""Routine upkeep of the time-series tables: the 1h/1d rollups, partitions ahead, retention.

With TimescaleDB the rollups are continuous aggregates and chunks/retention are its own jobs; on plain
PostgreSQL the rollups are materialized views refreshed concurrently (readers are never blocked) and
partitions are created ahead and dropped past retention by ``cd_maintain_time_tables``.
"""

from __future__ import annotations

from psycopg import sql

from cryptoderiv.storage.database import connect

ROLLUPS = ("ohlcv_1h", "ohlcv_1d")


def refresh_rollups(url: str) -> None:
    """Bring ``ohlcv_1h`` and ``ohlcv_1d`` up to date with ``ohlcv``."""
    with connect(url, autocommit=True) as conn:  # neither refresh may run inside a transaction block
        timescale = conn.execute("SELECT cd_timescale_available()").fetchone()
        for view in ROLLUPS:
            if timescale and timescale[0]:
                conn.execute("CALL refresh_continuous_aggregate(%s, NULL, NULL)", (view,))
                continue
            populated = conn.execute(
                "SELECT ispopulated FROM pg_matviews WHERE matviewname = %s", (view,)).fetchone()
            concurrently = sql.SQL("CONCURRENTLY ") if populated and populated[0] else sql.SQL("")
            conn.execute(sql.SQL("REFRESH MATERIALIZED VIEW {}{}").format(concurrently, sql.Identifier(view)))


def maintain_time_tables(url: str, ahead_days: int = 35) -> list[tuple[str, int, int]]:
    """Create partitions ``ahead_days`` ahead and apply retention; (table, created, dropped) per table."""
    with connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT * FROM cd_maintain_time_tables(make_interval(days => %s))", (ahead_days,))
        return [(str(t), int(c), int(d)) for t, c, d in rows]
