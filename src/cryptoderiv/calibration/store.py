"""Reading snapshots from ``option_quotes`` and writing ``model_runs`` / ``heston_params`` (migration 030).

All SQL is parameterised. Writes are upserts keyed by the snapshot, and the ``is_current`` flag is
recomputed from the table (the newest ``converged`` snapshot per venue and underlying), so re-running or
backfilling any window leaves the same rows, and a failed or rejected fit never becomes current.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd
import psycopg

from cryptoderiv.calibration.snapshots import QUOTE_COLUMNS, ChainSnapshot, group_snapshots
from cryptoderiv.errors import ContractViolation
from cryptoderiv.pricing.heston import HestonParams

KIND = "heston_calibration"
EDGE_MARGIN = timedelta(hours=1)  # quote times read around a window to find whole snapshots at its edges


def model_run_id(exchange: str, underlying: str, snapshot_ts: pd.Timestamp) -> str:
    """Deterministic key of a calibration run: ``heston_calibration:<exchange>:<underlying>:<ISO UTC>``."""
    ts = pd.Timestamp(snapshot_ts).tz_convert("UTC").isoformat().replace("+00:00", "Z")
    return f"{KIND}:{exchange}:{underlying}:{ts}"


def snapshots_in_window(conn: psycopg.Connection, exchange: str, underlying: str, start: pd.Timestamp,
                        end: pd.Timestamp, gap_seconds: float) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """``(first, last)`` quote times of the snapshots whose first quote time is in ``[start, end)``."""
    rows = conn.execute(
        "SELECT DISTINCT q.ts FROM option_quotes q JOIN instruments i USING (instrument_id)"
        " WHERE i.kind = 'option' AND i.exchange = %s AND i.base = %s AND q.ts >= %s AND q.ts < %s",
        (exchange, underlying, start - EDGE_MARGIN, end + EDGE_MARGIN),
    ).fetchall()
    groups = group_snapshots([r[0] for r in rows], gap_seconds)
    return [(first, last) for first, last in groups if start <= first < end]


def catch_up_window(conn: psycopg.Connection, exchange: str, underlying: str,
                    lookback: timedelta) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """Window of the snapshots not yet calibrated: after the last calibrated snapshot (any status), at most
    ``lookback`` before the newest quote, up to and including the newest quote. None without quotes."""
    newest = conn.execute(
        "SELECT max(q.ts) FROM option_quotes q JOIN instruments i USING (instrument_id)"
        " WHERE i.kind = 'option' AND i.exchange = %s AND i.base = %s", (exchange, underlying)).fetchone()
    if newest is None or newest[0] is None:
        return None
    end = pd.Timestamp(newest[0]).tz_convert("UTC") + pd.Timedelta(microseconds=1)
    start = end - pd.Timedelta(lookback)
    last = conn.execute(
        "SELECT max(snapshot_ts) FROM model_runs WHERE kind = %s AND exchange = %s AND underlying = %s",
        (KIND, exchange, underlying)).fetchone()
    if last is not None and last[0] is not None:
        start = max(start, pd.Timestamp(last[0]).tz_convert("UTC") + pd.Timedelta(microseconds=1))
    return (start, end) if end > start else None


def load_snapshot(conn: psycopg.Connection, exchange: str, underlying: str, first: pd.Timestamp,
                  last: pd.Timestamp) -> ChainSnapshot:
    """The quotes of one snapshot (the latest quote per option between ``first`` and ``last``)."""
    cur = conn.execute(
        "SELECT DISTINCT ON (i.symbol) i.symbol, i.expiry, i.strike, i.option_type, q.ts, q.premium_currency,"
        " q.bid_usd, q.ask_usd, q.mark_usd, q.underlying_price, q.index_price, q.open_interest"
        " FROM option_quotes q JOIN instruments i USING (instrument_id)"
        " WHERE i.kind = 'option' AND i.exchange = %s AND i.base = %s AND q.ts >= %s AND q.ts <= %s"
        " ORDER BY i.symbol, q.ts DESC",
        (exchange, underlying, first, last))
    frame = pd.DataFrame(cur.fetchall(), columns=list(QUOTE_COLUMNS))
    if frame.empty:
        raise ContractViolation(f"no {exchange} {underlying} option quotes between {first} and {last}")
    for col in ("strike", "bid_usd", "ask_usd", "mark_usd", "underlying_price", "index_price", "open_interest"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    frame["expiry"] = pd.to_datetime(frame["expiry"], utc=True)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return ChainSnapshot(exchange, underlying, pd.Timestamp(first).tz_convert("UTC"), frame)


def previous_good(conn: psycopg.Connection, exchange: str, underlying: str,
                  before: pd.Timestamp) -> tuple[pd.Timestamp, HestonParams] | None:
    """The newest ``converged`` parameters of an earlier snapshot (the warm start), or None."""
    row = conn.execute(
        "SELECT snapshot_ts, v0, kappa, theta, sigma, rho FROM heston_params"
        " WHERE exchange = %s AND underlying = %s AND snapshot_ts < %s AND status = 'converged'"
        " ORDER BY snapshot_ts DESC LIMIT 1", (exchange, underlying, before)).fetchone()
    if row is None:
        return None
    return pd.Timestamp(row[0]).tz_convert("UTC"), HestonParams(*(float(x) for x in row[1:]))


@dataclass(frozen=True)
class StoredRun:
    """What a previous run of a snapshot left in ``model_runs``."""

    run_id: str
    status: str
    message: str
    input_fingerprint: str
    mlflow_run_id: str | None
    mlflow_experiment_id: str | None
    metrics: dict[str, Any]
    warm_start_from: pd.Timestamp | None


def stored_run(conn: psycopg.Connection, run_id: str) -> StoredRun | None:
    """The ``model_runs`` row of ``run_id``, if any."""
    row = conn.execute(
        "SELECT run_id, status, message, input_fingerprint, mlflow_run_id, mlflow_experiment_id, metrics,"
        " warm_start_from FROM model_runs WHERE run_id = %s", (run_id,)).fetchone()
    if row is None:
        return None
    warm = pd.Timestamp(row[7]).tz_convert("UTC") if row[7] is not None else None
    return StoredRun(row[0], row[1], row[2], row[3], row[4], row[5], dict(row[6]), warm)


def stored_params(conn: psycopg.Connection, run_id: str) -> tuple[HestonParams | None, bool]:
    """Parameters of a run and whether they are current."""
    row = conn.execute("SELECT v0, kappa, theta, sigma, rho, is_current FROM heston_params WHERE run_id = %s",
                       (run_id,)).fetchone()
    if row is None:
        return None, False
    return HestonParams(*(float(x) for x in row[:5])), bool(row[5])


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class RunRecord:
    """One calibration to store (see migration 030 for the columns and units)."""

    run_id: str
    exchange: str
    underlying: str
    snapshot_ts: pd.Timestamp
    status: str
    message: str
    n_quotes: int
    n_expiries: int
    metrics: dict[str, float]
    config: dict[str, Any]
    input_fingerprint: str
    warm_start_from: pd.Timestamp | None
    mlflow_run_id: str | None
    mlflow_experiment_id: str | None
    started_at: pd.Timestamp
    params: HestonParams | None
    premium_currency: str


def save_run(conn: psycopg.Connection, rec: RunRecord) -> bool:
    """Upsert the run and its parameters, then recompute ``is_current``; returns whether ``rec`` is current.

    Runs in the caller's transaction (commit after).
    """
    metrics = {k: _finite(float(v)) for k, v in rec.metrics.items()}
    conn.execute(
        "INSERT INTO model_runs (run_id, kind, exchange, underlying, snapshot_ts, status, message, n_quotes,"
        " n_expiries, metrics, config, input_fingerprint, warm_start_from, mlflow_run_id, mlflow_experiment_id,"
        " wall_time_s, started_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, message = EXCLUDED.message,"
        " n_quotes = EXCLUDED.n_quotes, n_expiries = EXCLUDED.n_expiries, metrics = EXCLUDED.metrics,"
        " config = EXCLUDED.config, input_fingerprint = EXCLUDED.input_fingerprint,"
        " warm_start_from = EXCLUDED.warm_start_from, mlflow_run_id = EXCLUDED.mlflow_run_id,"
        " mlflow_experiment_id = EXCLUDED.mlflow_experiment_id, wall_time_s = EXCLUDED.wall_time_s,"
        " started_at = EXCLUDED.started_at",
        (rec.run_id, KIND, rec.exchange, rec.underlying, rec.snapshot_ts, rec.status, rec.message, rec.n_quotes,
         rec.n_expiries, json.dumps(metrics, sort_keys=True), json.dumps(rec.config, sort_keys=True),
         rec.input_fingerprint, rec.warm_start_from, rec.mlflow_run_id, rec.mlflow_experiment_id,
         metrics.get("wall_time_s"), rec.started_at),
    )
    if rec.params is None:
        conn.execute("DELETE FROM heston_params WHERE run_id = %s", (rec.run_id,))
    else:
        p = rec.params
        conn.execute(
            "INSERT INTO heston_params (exchange, underlying, snapshot_ts, run_id, status, v0, kappa, theta, sigma,"
            " rho, feller_ratio, feller_satisfied, rmse_iv, rmse_premium, rmse_premium_usd, premium_currency,"
            " within_spread, max_abs_iv_error, iterations, n_quotes)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (exchange, underlying, snapshot_ts) DO UPDATE SET run_id = EXCLUDED.run_id,"
            " status = EXCLUDED.status, v0 = EXCLUDED.v0, kappa = EXCLUDED.kappa, theta = EXCLUDED.theta,"
            " sigma = EXCLUDED.sigma, rho = EXCLUDED.rho, feller_ratio = EXCLUDED.feller_ratio,"
            " feller_satisfied = EXCLUDED.feller_satisfied, rmse_iv = EXCLUDED.rmse_iv,"
            " rmse_premium = EXCLUDED.rmse_premium, rmse_premium_usd = EXCLUDED.rmse_premium_usd,"
            " premium_currency = EXCLUDED.premium_currency, within_spread = EXCLUDED.within_spread,"
            " max_abs_iv_error = EXCLUDED.max_abs_iv_error, iterations = EXCLUDED.iterations,"
            " n_quotes = EXCLUDED.n_quotes",
            (rec.exchange, rec.underlying, rec.snapshot_ts, rec.run_id, rec.status, p.v0, p.kappa, p.theta, p.sigma,
             p.rho, p.feller_ratio, p.feller, metrics.get("rmse_iv"), metrics.get("rmse_premium"),
             metrics.get("rmse_premium_usd"), rec.premium_currency, metrics.get("within_spread"),
             metrics.get("max_abs_iv_error"), int(rec.metrics.get("iterations", 0)), max(rec.n_quotes, 1)),
        )
    refresh_current(conn, rec.exchange, rec.underlying)
    row = conn.execute("SELECT is_current FROM heston_params WHERE run_id = %s", (rec.run_id,)).fetchone()
    return bool(row and row[0])


def refresh_current(conn: psycopg.Connection, exchange: str, underlying: str) -> None:
    """Mark the newest ``converged`` snapshot of the pair as current, and only that one."""
    conn.execute(
        "UPDATE heston_params SET is_current = false WHERE exchange = %s AND underlying = %s AND is_current",
        (exchange, underlying))
    conn.execute(
        "UPDATE heston_params SET is_current = true WHERE (exchange, underlying, snapshot_ts) = ("
        " SELECT exchange, underlying, snapshot_ts FROM heston_params WHERE exchange = %s AND underlying = %s"
        " AND status = 'converged' ORDER BY snapshot_ts DESC LIMIT 1)", (exchange, underlying))
