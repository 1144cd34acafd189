"""Routine upkeep of the time-series tables: the 1h/1d rollups, partitions ahead, retention.

With TimescaleDB they are continuous aggregates (refreshed by policy, and here on demand for a window);
on plain PostgreSQL they are materialized views refreshed concurrently, so readers are never blocked.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

ROLLUPS = ("ohlcv_1h", "ohlcv_1d")


def refresh_rollups(conn: psycopg.Connection) -> None:
    """Bring ``ohlcv_1h`` and ``ohlcv_1d`` up to date with ``ohlcv``. Needs an autocommit connection
    (neither refresh may run inside a transaction block)."""
    timescale = conn.execute("SELECT cd_timescale_available()").fetchone()
    for view in ROLLUPS:
        if timescale and timescale[0]:
            conn.execute("CALL refresh_continuous_aggregate(%s, NULL, NULL)", (view,))
            continue
        populated = conn.execute(
            "SELECT ispopulated FROM pg_matviews WHERE matviewname = %s", (view,)).fetchone()
        concurrently = sql.SQL("CONCURRENTLY ") if populated and populated[0] else sql.SQL("")
        conn.execute(sql.SQL("REFRESH MATERIALIZED VIEW {}{}").format(concurrently, sql.Identifier(view)))


def maintain_time_tables(conn: psycopg.Connection, ahead_days: int = 35) -> list[tuple[str, int, int]]:
    """Create partitions ahead and apply retention (plain PostgreSQL; TimescaleDB does both itself).

    Returns (table, partitions created, partitions dropped) per time-series table."""
    rows = conn.execute("SELECT * FROM cd_maintain_time_tables(make_interval(days => %s))", (ahead_days,))
    return [(str(t), int(c), int(d)) for t, c, d in rows]
