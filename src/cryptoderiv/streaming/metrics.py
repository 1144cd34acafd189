"""The sidecar's counters and gauges, rendered in the Prometheus text exposition format (version 0.0.4)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class StreamMetrics:
    """What the sidecar counts. Counters only grow; gauges are set by their owner.

    Attributes
    ----------
    ticks_in : Counter
        Ticks received, per venue.
    trades_in : Counter
        Trades received over WebSocket, per venue.
    trades_backfilled : Counter
        Trades recovered over REST after a gap, per venue.
    gaps : Counter
        Gaps detected (reconnects and trade id jumps), per venue.
    reconnects : Counter
        Failed watches followed by a new dial, per venue.
    rows_written : Counter
        Rows committed to the database, per table.
    rows_spooled : Counter
        Rows written to the disk spool, per table.
    rows_rejected : Counter
        Rows dropped because their instrument is not in ``instruments``, per table.
    write_errors : int
        Failed database writes (each spooled its batch).
    messages_out : int
        Messages queued for WebSocket clients.
    clients_dropped : int
        Clients closed with 1013 for falling behind.
    alerts_fired : Counter
        Alerts stored and sent, per kind.
    """

    ticks_in: Counter[str] = field(default_factory=Counter)
    trades_in: Counter[str] = field(default_factory=Counter)
    trades_backfilled: Counter[str] = field(default_factory=Counter)
    gaps: Counter[str] = field(default_factory=Counter)
    reconnects: Counter[str] = field(default_factory=Counter)
    rows_written: Counter[str] = field(default_factory=Counter)
    rows_spooled: Counter[str] = field(default_factory=Counter)
    rows_rejected: Counter[str] = field(default_factory=Counter)
    write_errors: int = 0
    messages_out: int = 0
    clients_dropped: int = 0
    alerts_fired: Counter[str] = field(default_factory=Counter)
    clients: int = 0
    queue_rows: int = 0
    spool_files: int = 0
    database_up: bool = True
    event_lag_s: float = 0.0      # receive time - venue event time of the latest tick
    write_lag_s: float = 0.0      # commit time - receive time of the oldest row of the latest batch
    started_at: float = field(default_factory=time.time)

    def render(self) -> str:
        """The Prometheus text format."""
        out: list[str] = []

        def metric(name: str, kind: str, help_: str, values: dict[str, float] | float, label: str = "") -> None:
            out.append(f"# HELP {name} {help_}")
            out.append(f"# TYPE {name} {kind}")
            if isinstance(values, dict):
                for key in sorted(values):
                    out.append(f'{name}{{{label}="{key}"}} {float(values[key]):.6g}')
            else:
                out.append(f"{name} {float(values):.6g}")

        p = "cryptoderiv_stream_"
        metric(p + "ticks_in_total", "counter", "Ticks received.", dict(self.ticks_in), "venue")
        metric(p + "trades_in_total", "counter", "Trades received over WebSocket.", dict(self.trades_in), "venue")
        metric(p + "trades_backfilled_total", "counter", "Trades recovered over REST.",
               dict(self.trades_backfilled), "venue")
        metric(p + "gaps_total", "counter", "Trade gaps detected.", dict(self.gaps), "venue")
        metric(p + "reconnects_total", "counter", "WebSocket redials.", dict(self.reconnects), "venue")
        metric(p + "rows_written_total", "counter", "Rows committed.", dict(self.rows_written), "table")
        metric(p + "rows_spooled_total", "counter", "Rows spooled to disk.", dict(self.rows_spooled), "table")
        metric(p + "rows_rejected_total", "counter", "Rows of unknown instruments.", dict(self.rows_rejected), "table")
        metric(p + "write_errors_total", "counter", "Failed database writes.", self.write_errors)
        metric(p + "messages_out_total", "counter", "Messages queued for clients.", self.messages_out)
        metric(p + "clients_dropped_total", "counter", "Slow clients closed (1013).", self.clients_dropped)
        metric(p + "alerts_fired_total", "counter", "Alerts fired.", dict(self.alerts_fired), "kind")
        metric(p + "clients", "gauge", "Connected WebSocket clients.", self.clients)
        metric(p + "queue_rows", "gauge", "Rows waiting in the write queue.", self.queue_rows)
        metric(p + "spool_files", "gauge", "Batches waiting in the disk spool.", self.spool_files)
        metric(p + "database_up", "gauge", "1 when the last write reached the database.", float(self.database_up))
        metric(p + "event_lag_seconds", "gauge", "Receive time minus venue event time (latest tick).",
               self.event_lag_s)
        metric(p + "write_lag_seconds", "gauge", "Commit time minus receive time (oldest row, latest batch).",
               self.write_lag_s)
        metric(p + "uptime_seconds", "gauge", "Seconds since start.", time.time() - self.started_at)
        return "\n".join(out) + "\n"
