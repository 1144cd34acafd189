"""Alerts as rows of the ``alerts`` table: the cool-down check and the insert, in one transaction."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """One firing of a rule for a subject.

    Attributes
    ----------
    rule_name, kind, severity : str
        From the rule.
    subject : str
        What it is about: ``binance:BTC/USDT``, ``deribit:BTC:2026-12-25``, a table, a DAG id.
    fired_at : datetime
        UTC.
    message : str
        One line for people.
    value, threshold : float or None
        The observed figure and the rule's threshold (decimals for IVs, rates, moves).
    payload : dict
        Details (JSON-serialisable).
    """

    rule_name: str
    kind: str
    severity: str
    subject: str
    fired_at: dt.datetime
    message: str
    value: float | None = None
    threshold: float | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        """``rule:subject``: firings with the same key are one condition (cool-down applies)."""
        return f"{self.rule_name}:{self.subject}"

    def as_dict(self, alert_id: int | None = None, channels: tuple[str, ...] = ()) -> dict[str, Any]:
        """The alert as an ``alerts`` row in JSON form (what the dashboard channel and the webhook carry)."""
        return {
            "alert_id": alert_id, "rule_name": self.rule_name, "kind": self.kind, "severity": self.severity,
            "subject": self.subject, "dedup_key": self.dedup_key,
            "fired_at": self.fired_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "message": self.message, "value": self.value, "threshold": self.threshold, "payload": self.payload,
            "channels": list(channels),
        }


def record_alert(conn: psycopg.Connection, alert: Alert, cooldown_s: float,
                 channels: tuple[str, ...] = ()) -> int | None:
    """Store ``alert`` unless the same condition fired within ``cooldown_s``; commits.

    Concurrent firings of the same key are serialised by a transaction-scoped advisory lock, so two
    processes cannot both pass the cool-down check.

    Returns
    -------
    int or None
        The new ``alert_id``, or None when suppressed (duplicate within the cool-down).
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (alert.dedup_key,))
        last = conn.execute("SELECT max(fired_at) FROM alerts WHERE dedup_key = %s", (alert.dedup_key,)).fetchone()
        last_at = last[0] if last else None
        if last_at is not None and (alert.fired_at - last_at).total_seconds() < cooldown_s:
            return None
        row = conn.execute(
            "INSERT INTO alerts (rule_name, kind, severity, subject, dedup_key, fired_at, message, value, threshold,"
            " payload, channels) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)"
            " ON CONFLICT (dedup_key, fired_at) DO NOTHING RETURNING alert_id",
            (alert.rule_name, alert.kind, alert.severity, alert.subject, alert.dedup_key, alert.fired_at,
             alert.message, alert.value, alert.threshold, json.dumps(alert.payload, default=str), list(channels)),
        ).fetchone()
    if not conn.autocommit:
        conn.commit()
    return int(row[0]) if row else None


def alerts_after(conn: psycopg.Connection, alert_id: int, limit: int = 500) -> list[dict[str, Any]]:
    """Rows of ``alerts`` with a larger id, oldest first, as JSON-ready dicts."""
    cur = conn.execute(
        "SELECT alert_id, rule_name, kind, severity, subject, dedup_key, fired_at, message, value, threshold,"
        " payload, channels FROM alerts WHERE alert_id > %s ORDER BY alert_id LIMIT %s", (alert_id, limit))
    names = [d.name for d in cur.description or []]
    out = []
    for row in cur.fetchall():
        rec = dict(zip(names, row, strict=True))
        rec["fired_at"] = rec["fired_at"].astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        out.append(rec)
    return out


def last_alert_id(conn: psycopg.Connection) -> int:
    """The newest ``alert_id`` (0 when empty)."""
    row = conn.execute("SELECT coalesce(max(alert_id), 0) FROM alerts").fetchone()
    return int(row[0]) if row else 0
