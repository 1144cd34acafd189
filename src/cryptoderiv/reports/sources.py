"""Reading the report's inputs: small, parameterised lookups shared by the sections.

Every section asks the same two questions before its own query: does the table exist yet (the stage that
writes it may not be deployed), and which date's figures are the latest on or before the report date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import psycopg
from psycopg import sql


def table_exists(conn: psycopg.Connection, table: str) -> bool:
    """Whether ``table`` (a table or view of the search path) exists."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return bool(row and row[0])


def latest_as_of(conn: psycopg.Connection, table: str, portfolio: str, report_date: date) -> date | None:
    """The latest ``as_of`` of ``portfolio`` in ``table`` on or before ``report_date`` (None: no rows)."""
    query = sql.SQL("SELECT max(as_of) FROM {} WHERE portfolio = %s AND as_of <= %s").format(sql.Identifier(table))
    row = conn.execute(query, (portfolio, report_date)).fetchone()
    return row[0] if row else None


def day_window(report_date: date) -> tuple[datetime, datetime]:
    """The report date as a UTC window ``[00:00, next 00:00)``."""
    start = datetime.combine(report_date, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def fetch_dicts(conn: psycopg.Connection, query: str | sql.Composed, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Run a parameterised query and return its rows as dictionaries keyed by column name."""
    cursor = conn.execute(query, params)
    names = [column.name for column in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def staleness_note(what: str, as_of: date, report_date: date) -> str:
    """The line saying which date's figures a section shows (and that they are older than the report)."""
    if as_of == report_date:
        return f"{what} as of {as_of.isoformat()}."
    age = (report_date - as_of).days
    days = f"{age} day{'s' if age != 1 else ''}"
    return f"{what} as of {as_of.isoformat()}: the latest available, {days} before the report date."
