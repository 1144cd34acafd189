"""Batched, back-pressured, outage-proof writes of ticks and trades.

Producers ``await`` :meth:`BatchWriter.put` on a bounded queue (a full queue makes them wait: back-pressure
reaches the WebSocket readers instead of memory growing). One consumer cuts batches on a size or time
threshold, keeps at most one batch in flight while it collects the next, and writes each through
:func:`cryptoderiv.storage.writer.write_frame` (binary COPY, idempotent upsert on the natural key) in a
worker thread. When the database cannot be reached, batches go to the disk :class:`~.spool.Spool`; the
next write that reaches the database first replays the spool, oldest first. Closing flushes what is queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from cryptoderiv.errors import ContractViolation, DatabaseError
from cryptoderiv.storage.writer import instrument_ids, write_frame
from cryptoderiv.streaming.events import TICK_COLUMNS, TRADE_COLUMNS
from cryptoderiv.streaming.metrics import StreamMetrics
from cryptoderiv.streaming.spool import Spool
from cryptoderiv.streaming.subscriptions import WriterConfig

logger = logging.getLogger(__name__)

COLUMNS: dict[str, tuple[str, ...]] = {"ticks": TICK_COLUMNS, "trades": TRADE_COLUMNS}
KEYS: dict[str, tuple[str, ...]] = {"ticks": ("instrument_id", "ts", "source"),
                                    "trades": ("instrument_id", "ts", "trade_id")}
_TEXT = {"exchange", "symbol", "source", "trade_id", "side"}
_CONNECTION_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError, DatabaseError)
_CLOSE = object()


def rows_frame(table: str, rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows in :data:`COLUMNS` order as a frame with ms timestamps (the spool's form)."""
    frame = pd.DataFrame.from_records(list(rows), columns=list(COLUMNS[table]))
    for col in frame.columns:
        if col == "ts":
            frame[col] = frame[col].astype("int64")
        elif col in _TEXT:
            frame[col] = frame[col].astype("string")
        else:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


@dataclass
class InstrumentIds:
    """``(exchange, symbol) -> instrument_id`` from ``instruments``, refreshed when an unknown pair shows up
    (at most once per ``refresh_s`` for the same pair)."""

    refresh_s: float = 30.0

    def __post_init__(self) -> None:
        self._ids: dict[tuple[str, str], int] = {}
        self._missing_until: dict[tuple[str, str], float] = {}

    def resolve(self, conn: psycopg.Connection, exchange: pd.Series, symbol: pd.Series) -> np.ndarray:
        """Instrument ids (float array, NaN where unknown) for the pairs."""
        pairs = list(zip(exchange.tolist(), symbol.tolist(), strict=True))
        now = time.monotonic()
        unknown = {p for p in set(pairs) if p not in self._ids and self._missing_until.get(p, 0.0) <= now}
        if unknown:
            self._ids.update(instrument_ids(conn, unknown))
            for p in unknown - set(self._ids):
                self._missing_until[p] = now + self.refresh_s
                logger.warning("instrument %s %s is not in instruments (sync the catalog); its rows are dropped",
                               p[0], p[1])
        return np.array([self._ids.get(p, np.nan) for p in pairs], dtype=np.float64)


class BatchWriter:
    """The sidecar's write path (see the module docstring).

    Parameters
    ----------
    database_url : str
        Where to write.
    spool : Spool
        Disk spool for outages.
    config : WriterConfig
        Thresholds.
    metrics : StreamMetrics
        Updated in place.
    """

    def __init__(self, database_url: str, spool: Spool, config: WriterConfig, metrics: StreamMetrics) -> None:
        self.database_url = database_url
        self.spool = spool
        self.config = config
        self.metrics = metrics
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=config.queue_rows)
        self.ids = InstrumentIds()
        self._conn: psycopg.Connection | None = None
        self._down_since: float | None = None
        self._last_attempt = 0.0
        self._task: asyncio.Task[None] | None = None
        self._inflight: asyncio.Task[None] | None = None
        self.metrics.spool_files = len(spool)

    # --- producer side ------------------------------------------------------------------------------------

    async def put(self, table: str, row: tuple[Any, ...], received_ms: float) -> None:
        """Queue one row (waits while the queue is full)."""
        await self.queue.put((table, row, received_ms))

    def start(self) -> None:
        """Start the consumer task."""
        self._task = asyncio.create_task(self._run(), name="stream-writer")

    async def close(self) -> None:
        """Flush everything queued (to the database, or the spool when it is down) and stop."""
        if self._task is None:
            return
        await self.queue.put(_CLOSE)
        await self._task
        self._task = None
        await asyncio.to_thread(self._close_connection)

    # --- consumer -----------------------------------------------------------------------------------------

    async def _run(self) -> None:
        closing = False
        while not closing:
            batch: dict[str, list[tuple[Any, ...]]] = {}
            oldest = None
            n = 0
            item = await self.queue.get()
            deadline = time.monotonic() + self.config.flush_interval_s
            while True:
                if item is _CLOSE:
                    closing = True
                    break
                table, row, received_ms = item
                batch.setdefault(table, []).append(row)
                oldest = received_ms if oldest is None else min(oldest, received_ms)
                n += 1
                if n >= self.config.batch_rows:
                    break
                try:
                    item = self.queue.get_nowait()
                except asyncio.QueueEmpty:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        item = await asyncio.wait_for(self.queue.get(), remaining)
                    except TimeoutError:
                        break
            self.metrics.queue_rows = self.queue.qsize()
            if self._inflight is not None:
                await self._inflight
            if batch or closing:
                self._inflight = asyncio.create_task(self._flush(batch, oldest))
        if self._inflight is not None:
            await self._inflight
            self._inflight = None

    async def _flush(self, batch: dict[str, list[tuple[Any, ...]]], oldest_ms: float | None) -> None:
        try:
            await asyncio.to_thread(self.write_batch, {t: rows_frame(t, rows) for t, rows in batch.items()})
        except Exception:
            logger.exception("stream writer: batch failed unexpectedly")
        if oldest_ms is not None:
            self.metrics.write_lag_s = time.time() - oldest_ms / 1000.0

    # --- database side (worker thread) ----------------------------------------------------------------------

    def write_batch(self, frames: dict[str, pd.DataFrame]) -> None:
        """Write frames (spool form); spool them when the database is unreachable. Runs in a thread."""
        pending = {t: f for t, f in frames.items() if len(f)}
        if self._down_since is not None and time.monotonic() - self._last_attempt < self.config.retry_interval_s:
            self._spool(pending)
            return
        try:
            conn = self._connection()
            self._replay(conn)
            for table in list(pending):
                self._write(conn, table, pending[table])
                del pending[table]
        except _CONNECTION_ERRORS as exc:
            self._mark_down(exc)
            self._spool(pending)
            return
        if self._down_since is not None:
            logger.info("database reachable again after %.1f s; spool replayed",
                        time.monotonic() - self._down_since)
        self._down_since = None
        self.metrics.database_up = True

    def _connection(self) -> psycopg.Connection:
        self._last_attempt = time.monotonic()
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self.database_url, connect_timeout=3,
                                         options="-c timezone=UTC -c statement_timeout=60000")
        return self._conn

    def _close_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None

    def _mark_down(self, exc: BaseException) -> None:
        self.metrics.write_errors += 1
        self.metrics.database_up = False
        if self._down_since is None:
            self._down_since = time.monotonic()
            logger.warning("database unreachable (%s); spooling batches to %s", str(exc).strip().splitlines()[0]
                           if str(exc).strip() else type(exc).__name__, self.spool.directory)
        self._close_connection()

    def _spool(self, frames: dict[str, pd.DataFrame]) -> None:
        for table, frame in frames.items():
            self.spool.put(table, frame)
            self.metrics.rows_spooled[table] += len(frame)
        self.metrics.spool_files = len(self.spool)

    def _replay(self, conn: psycopg.Connection) -> None:
        replayed = 0
        for path, table, frame in self.spool.pending():
            self._write(conn, table, frame)
            Spool.done(path)
            replayed += 1
        if replayed:
            logger.info("replayed %d spooled batches", replayed)
        self.metrics.spool_files = len(self.spool)

    def _write(self, conn: psycopg.Connection, table: str, frame: pd.DataFrame) -> None:
        """Resolve instruments, drop duplicate keys (last wins), upsert, commit."""
        ids = self.ids.resolve(conn, frame["exchange"], frame["symbol"])
        known = ~np.isnan(ids)
        if not known.all():
            self.metrics.rows_rejected[table] += int((~known).sum())
        out = frame.loc[known].drop(columns=["exchange", "symbol"])
        out.insert(0, "instrument_id", ids[known].astype("int64"))
        out["ts"] = pd.to_datetime(out["ts"].to_numpy(dtype="int64"), unit="ms", utc=True)
        out = out.drop_duplicates(subset=list(KEYS[table]), keep="last")
        if out.empty:
            return
        try:
            write_frame(conn, table, out)
            conn.commit()
        except ContractViolation as exc:
            conn.rollback()
            self.metrics.rows_rejected[table] += len(out)
            logger.error("stream writer: %s batch refused, %d rows dropped: %s", table, len(out), exc)
            return
        self.metrics.rows_written[table] += len(out)
