"""The simulator's request log: which endpoint was called, with which parameters, and what happened."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RequestRecord:
    """One REST request or WebSocket message received by the simulator.

    Attributes
    ----------
    seq : int
        Arrival number (from 0 since the last clear).
    ts_ms : int
        Arrival time, ms UTC (wall clock).
    transport : str
        ``http`` or ``ws``.
    venue : str
        ``deribit``, ``binance``, ``bybit`` or ``sim`` (control endpoints).
    host : str
        Original exchange host (first path segment), e.g. ``fapi.binance.com``.
    path : str
        Path below the host, e.g. ``/fapi/v1/klines``.
    params : dict
        Query parameters (REST) or the parsed message (WebSocket).
    status : int
        HTTP status sent (0 for WebSocket messages and dropped requests).
    fault : str or None
        Injected fault kind, if any.
    """

    seq: int
    ts_ms: int
    transport: str
    venue: str
    host: str
    path: str
    params: dict[str, Any]
    status: int
    fault: str | None = None

    @property
    def endpoint(self) -> str:
        """``host + path``: the endpoint as the exchange would see it."""
        return self.host + self.path

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)


@dataclass
class RequestLog:
    """Thread-safe, bounded list of :class:`RequestRecord`."""

    capacity: int = 100_000
    _records: list[RequestRecord] = field(default_factory=list)
    _seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **fields: Any) -> RequestRecord:
        """Append a record (``seq`` is assigned here)."""
        with self._lock:
            record = RequestRecord(seq=self._seq, **fields)
            self._seq += 1
            self._records.append(record)
            if len(self._records) > self.capacity:
                del self._records[: len(self._records) - self.capacity]
            return record

    def records(self) -> list[RequestRecord]:
        """A snapshot of the records, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()
            self._seq = 0

    def endpoints(self, transport: str = "http", include_faults: bool = True) -> list[str]:
        """Endpoints (``host + path``) called, in order."""
        return [r.endpoint for r in self.records() if r.transport == transport and (include_faults or r.fault is None)]
