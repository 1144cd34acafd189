"""Read a time window of a table over JDBC and write a window back idempotently.

Connections are given as libpq URLs (``postgresql://user:password@host:port/dbname?sslmode=...``), the
form the rest of the platform uses; :func:`jdbc_target` turns one into the JDBC URL and properties Spark
needs (``driver=org.postgresql.Driver`` always named: the jar comes from ``spark.jars``, not Maven).

Writes are per-window delete-insert in one transaction: Spark appends the frame into an unlogged staging
table (created ``LIKE`` the target, so types match), then one PostgreSQL transaction ensures the
partitions, deletes the target's rows of ``[start, end)`` and inserts the staged rows. Re-running a window
leaves the same rows; readers never see a half-written window.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg
from psycopg import sql
from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

JDBC_DRIVER: Final = "org.postgresql.Driver"
_PASSED_PARAMS: Final = {"sslmode", "sslrootcert", "sslcert", "sslkey", "application_name", "options"}


@dataclass(frozen=True)
class JdbcTarget:
    """A JDBC URL and its connection properties (``user``, ``password``, ``driver``)."""

    url: str
    properties: dict[str, str] = field(repr=False)


def jdbc_target(database_url: str) -> JdbcTarget:
    """JDBC URL and properties from a libpq URL.

    Parameters
    ----------
    database_url : str
        ``postgresql://`` (or ``postgres://``) URL; user and password percent-encoded.

    Returns
    -------
    JdbcTarget
        ``jdbc:postgresql://host:port/dbname`` with ``user``, ``password``, ``driver`` and the SSL
        parameters of the URL as properties (the password never in the URL itself).

    Raises
    ------
    ValueError
        Not a PostgreSQL URL, or no database name.
    """
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgresql", "postgres"}:
        raise ValueError(f"not a PostgreSQL URL (scheme {parts.scheme!r})")
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise ValueError("the database URL names no database")
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    props = {"driver": JDBC_DRIVER}
    if parts.username:
        props["user"] = unquote(parts.username)
    if parts.password:
        props["password"] = unquote(parts.password)
    props.update({k: v for k, v in parse_qsl(parts.query) if k in _PASSED_PARAMS})
    return JdbcTarget(f"jdbc:postgresql://{host}:{parts.port or 5432}/{dbname}", props)


def _literal(ts: datetime) -> str:
    if ts.tzinfo is None:
        raise ValueError(f"window bound {ts} is naive; pass timezone-aware UTC datetimes")
    return ts.isoformat()


def read_window(
    spark: SparkSession,
    database_url: str,
    table: str,
    start: datetime,
    end: datetime,
    *,
    time_column: str = "ts",
    columns: list[str] | None = None,
    num_partitions: int = 4,
) -> DataFrame:
    """Rows of ``table`` with ``start <= time_column < end``, read in parallel slices of the window.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        The session.
    database_url : str
        libpq URL of the database.
    table : str
        Table (or view) name; quoted as an identifier.
    start, end : datetime.datetime
        Timezone-aware window bounds, ``end`` exclusive.
    time_column : str, default "ts"
        The timestamptz column the window and the partitioning use.
    columns : list of str, optional
        Columns to read (default all).
    num_partitions : int, default 4
        Number of JDBC reads; Spark splits ``[start, end)`` into equal time slices.

    Returns
    -------
    pyspark.sql.DataFrame
        Lazy frame; timestamps as Spark ``TimestampType`` (UTC).
    """
    target = jdbc_target(database_url)
    cols = ", ".join(_quote(c) for c in columns) if columns else "*"
    query = (f"(SELECT {cols} FROM {_quote(table)} WHERE {_quote(time_column)} >= '{_literal(start)}'::timestamptz "
             f"AND {_quote(time_column)} < '{_literal(end)}'::timestamptz) AS window_rows")
    reader = spark.read.format("jdbc").option("url", target.url).option("dbtable", query)
    for key, value in target.properties.items():
        reader = reader.option(key, value)
    if num_partitions > 1:
        reader = (reader.option("partitionColumn", time_column)
                  .option("lowerBound", start.strftime("%Y-%m-%d %H:%M:%S"))
                  .option("upperBound", end.strftime("%Y-%m-%d %H:%M:%S"))
                  .option("numPartitions", str(num_partitions)))
    return reader.option("fetchsize", "10000").load()


def read_table(spark: SparkSession, database_url: str, table: str) -> DataFrame:
    """A whole (small) table, e.g. ``instruments``, in one JDBC read."""
    target = jdbc_target(database_url)
    reader = spark.read.format("jdbc").option("url", target.url).option("dbtable", _quote(table))
    for key, value in target.properties.items():
        reader = reader.option(key, value)
    return reader.load()


def _quote(identifier: str) -> str:
    if not identifier.replace("_", "").isalnum():
        raise ValueError(f"unexpected identifier {identifier!r}")
    return f'"{identifier}"'


@dataclass(frozen=True)
class WindowWrite:
    """What :func:`write_window` did."""

    table: str
    start: datetime
    end: datetime
    rows_deleted: int
    rows_inserted: int
    seconds: float


def write_window(
    frame: DataFrame,
    database_url: str,
    table: str,
    start: datetime,
    end: datetime,
    *,
    time_column: str = "ts",
    batch_size: int = 10000,
) -> WindowWrite:
    """Replace the rows of ``[start, end)`` in ``table`` with ``frame``, in one transaction.

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        Rows to publish; its columns are a subset of the table's (names as in the table, lower case).
        Every ``time_column`` value must lie in ``[start, end)``.
    database_url : str
        libpq URL of the database.
    table : str
        Target table (a time table created by ``cd_create_time_table``).
    start, end : datetime.datetime
        Timezone-aware window; ``end`` exclusive.
    time_column : str, default "ts"
        The table's time column.
    batch_size : int, default 10000
        JDBC insert batch size of the staging load.

    Returns
    -------
    WindowWrite
        Rows deleted and inserted.

    Raises
    ------
    ValueError
        A row lies outside the window (nothing is published).
    psycopg.Error
        The publish failed (a CHECK or key violation, ...); the transaction is rolled back, the target
        is unchanged.
    """
    started = time.perf_counter()
    for bound in (start, end):
        _literal(bound)  # refuses naive bounds
    staging = f"stg_{table}_{secrets.token_hex(4)}"
    columns = frame.columns
    target = jdbc_target(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE UNLOGGED TABLE {} (LIKE {} INCLUDING DEFAULTS)").format(
            sql.Identifier(staging), sql.Identifier(table)))
    try:
        writer = frame.write.format("jdbc").mode("append").option("url", target.url).option("dbtable", staging)
        for key, value in target.properties.items():
            writer = writer.option(key, value)
        writer.option("batchsize", str(batch_size)).option("isolationLevel", "NONE").save()
        with psycopg.connect(database_url) as conn, conn.transaction():
            conn.execute("SET LOCAL timezone = 'UTC'")
            outside = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE {} < %s OR {} >= %s").format(
                sql.Identifier(staging), sql.Identifier(time_column), sql.Identifier(time_column)),
                (start, end)).fetchone()
            if outside and outside[0]:
                raise ValueError(f"{table}: {outside[0]} rows lie outside the window [{start}, {end})")
            conn.execute("SELECT cd_ensure_partitions(%s, %s, %s)", (table, start, end))
            deleted = conn.execute(sql.SQL("DELETE FROM {} WHERE {} >= %s AND {} < %s").format(
                sql.Identifier(table), sql.Identifier(time_column), sql.Identifier(time_column)),
                (start, end)).rowcount
            col_list = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            inserted = conn.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                sql.Identifier(table), col_list, col_list, sql.Identifier(staging))).rowcount
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(staging)))
    result = WindowWrite(table, start, end, deleted, inserted, time.perf_counter() - started)
    log.info("published window", extra={"table": table, "start": start.isoformat(), "end": end.isoformat(),
                                         "rows_deleted": deleted, "rows_inserted": inserted,
                                         "seconds": round(result.seconds, 3)})
    return result
