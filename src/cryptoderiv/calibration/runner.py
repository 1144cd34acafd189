"""Calibrate every snapshot of a window (or every not-yet-calibrated one): the entry point of the DAG, the
MLflow project and ``make demo``.

Per venue and underlying, snapshots are processed in time order so each warm-starts from the newest earlier
``converged`` parameters. A snapshot whose stored run has the same input fingerprint (quotes, config and
warm start) is not recalibrated: re-running a window returns the stored outcome and leaves the tables as
they are. ``force=True`` recalibrates anyway (same inputs give the same parameters and metrics; only the
wall times and ``started_at`` change) and logs into the same MLflow run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pandas as pd

from cryptoderiv.calibration import store
from cryptoderiv.calibration.config import CalibrationConfig
from cryptoderiv.calibration.fit import fit_snapshot
from cryptoderiv.errors import ConfigurationError
from cryptoderiv.pricing.heston import HestonParams
from cryptoderiv.storage.database import connect

log = logging.getLogger(__name__)

EXPERIMENT = "heston-calibration"
DEFAULT_UNDERLYINGS = ("BTC", "ETH")


@dataclass(frozen=True)
class CalibrationOutcome:
    """Result of one snapshot's calibration, as stored.

    Attributes
    ----------
    run_id : str
        ``model_runs.run_id``.
    exchange, underlying : str
        Venue and base coin.
    snapshot_ts : pandas.Timestamp
        Snapshot time (UTC).
    status : {"converged", "failed", "rejected"}
        Outcome (see :mod:`cryptoderiv.calibration.fit`).
    message : str
        Reason / optimiser message.
    params : HestonParams or None
        Calibrated parameters.
    metrics : dict
        Fit metrics (RMSE in IV and premium, share inside the spread, iterations, time, Feller ratio, ...).
    is_current : bool
        Whether these are now the current good parameters of the venue and underlying.
    warm_start_from : pandas.Timestamp or None
        Snapshot whose parameters seeded the fit.
    mlflow_run_id, mlflow_url : str or None
        The MLflow run and its UI link (None when MLflow logging was off).
    reused : bool
        True when nothing was recalibrated (the stored run had the same inputs).
    """

    run_id: str
    exchange: str
    underlying: str
    snapshot_ts: pd.Timestamp
    status: str
    message: str
    params: HestonParams | None
    metrics: dict[str, Any] = field(repr=False)
    is_current: bool
    warm_start_from: pd.Timestamp | None
    mlflow_run_id: str | None
    mlflow_url: str | None
    reused: bool

    def summary(self) -> str:
        """One line for logs and the demo."""
        p = self.params
        head = f"{self.exchange} {self.underlying} {self.snapshot_ts:%Y-%m-%d %H:%M:%S}Z {self.status}"
        if p is None:
            return f"{head}: {self.message}"
        m = self.metrics
        return (f"{head}: v0={p.v0:.4f} kappa={p.kappa:.3f} theta={p.theta:.4f} sigma={p.sigma:.3f} rho={p.rho:.3f}"
                f" | RMSE IV {100 * float(m.get('rmse_iv') or float('nan')):.2f} vol pts,"
                f" inside spread {100 * float(m.get('within_spread') or float('nan')):.0f}%,"
                f" {int(m.get('iterations') or 0)} it, {float(m.get('wall_time_s') or 0):.2f}s"
                f"{' (current)' if self.is_current else ''}{' [reused]' if self.reused else ''}"
                f" {self.mlflow_url or ''}")


def window_from_event_extras(extras: Iterable[Mapping[str, Any] | None]) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The union window of asset-event extras carrying ``window_start``/``window_end`` (ISO-8601), or None.

    Parameters
    ----------
    extras : iterable of mapping
        The ``extra`` of each triggering asset event (Airflow passes them; this function is Airflow-free).
    """
    starts, ends = [], []
    for extra in extras:
        if extra and "window_start" in extra and "window_end" in extra:
            starts.append(_utc(extra["window_start"], "window_start"))
            ends.append(_utc(extra["window_end"], "window_end"))
    return (min(starts), max(ends)) if starts else None


def _utc(value: Any, name: str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        raise ConfigurationError(f"{name} must be a timezone-aware UTC time, got {value!r}")
    return ts.tz_convert("UTC")


def _fingerprint(quotes_digest: str, config: dict[str, Any], warm: tuple[pd.Timestamp, HestonParams] | None) -> str:
    payload = {"quotes": quotes_digest, "config": config,
               "warm": None if warm is None else [warm[0].isoformat(), [f"{x:.15g}" for x in warm[1].to_array()]]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def run_calibrations(
    database_url: str | None = None,
    window_start: Any = None,
    window_end: Any = None,
    *,
    underlyings: Sequence[str] | None = None,
    exchanges: Sequence[str] | None = None,
    config: CalibrationConfig | None = None,
    force: bool = False,
    track: bool = True,
    experiment: str = EXPERIMENT,
) -> list[CalibrationOutcome]:
    """Calibrate Heston per venue, underlying and snapshot, store the results and log MLflow runs.

    Parameters
    ----------
    database_url : str, optional
        Platform database (libpq URL); default: the settings' database.
    window_start, window_end : datetime-like, optional
        UTC window ``[start, end)`` of snapshot times (a snapshot's time is its first quote time). Both or
        neither: without a window, the snapshots after the last calibrated one of each venue and underlying
        (at most ``config.max_snapshots`` newest, within ``config.lookback_hours`` of the newest quote).
    underlyings : sequence of str, optional
        Base coins (default BTC and ETH).
    exchanges : sequence of str, optional
        Venues (default ``config.exchanges``).
    config : CalibrationConfig, optional
        Selection, objective and acceptance rules.
    force : bool, default False
        Recalibrate snapshots whose stored run has the same inputs.
    track : bool, default True
        Log each calibration as an MLflow run (tracking URI from the settings, experiment ``experiment``).
    experiment : str, default "heston-calibration"
        MLflow experiment name.

    Returns
    -------
    list of CalibrationOutcome
        One per snapshot, in venue, underlying and time order; ``mlflow_url`` links each run in the UI.

    Raises
    ------
    ConfigurationError
        Only one window bound given, a naive time, or an empty window.
    DatabaseError
        The database cannot be reached.
    """
    config = config or CalibrationConfig()
    if (window_start is None) != (window_end is None):
        raise ConfigurationError("give both window_start and window_end, or neither")
    window = None
    if window_start is not None:
        window = (_utc(window_start, "window_start"), _utc(window_end, "window_end"))
        if window[1] <= window[0]:
            raise ConfigurationError(f"empty calibration window [{window[0]}, {window[1]})")
    experiment_id = None
    if track:
        from cryptoderiv.tracking import configure_mlflow

        experiment_id = configure_mlflow(experiment)
    config_dict = config.as_dict()
    outcomes: list[CalibrationOutcome] = []
    with connect(database_url) as conn:
        for exchange in exchanges or config.exchanges:
            for underlying in underlyings or DEFAULT_UNDERLYINGS:
                if window is not None:
                    bounds: tuple[pd.Timestamp, pd.Timestamp] | None = window
                else:
                    bounds = store.catch_up_window(conn, exchange, underlying,
                                                   timedelta(hours=config.lookback_hours))
                if bounds is None:
                    continue
                snaps = store.snapshots_in_window(conn, exchange, underlying, bounds[0], bounds[1],
                                                  config.snapshot_gap_seconds)
                if window is None:
                    snaps = snaps[-config.max_snapshots:]
                for first, last in snaps:
                    outcomes.append(_calibrate_one(conn, exchange, underlying, first, last, config, config_dict,
                                                   force, experiment_id))
                    conn.commit()
    log.info("Heston calibration: %d snapshot(s), %s", len(outcomes),
             {s: sum(o.status == s for o in outcomes) for s in ("converged", "rejected", "failed")})
    return outcomes


def _calibrate_one(conn: Any, exchange: str, underlying: str, first: pd.Timestamp, last: pd.Timestamp,
                   config: CalibrationConfig, config_dict: dict[str, Any], force: bool,
                   experiment_id: str | None) -> CalibrationOutcome:
    from cryptoderiv.tracking import run_url

    snapshot = store.load_snapshot(conn, exchange, underlying, first, last)
    run_id = store.model_run_id(exchange, underlying, snapshot.snapshot_ts)
    warm = store.previous_good(conn, exchange, underlying, snapshot.snapshot_ts)
    fingerprint = _fingerprint(snapshot.fingerprint(), config_dict, warm)
    previous = store.stored_run(conn, run_id)
    if previous is not None and previous.input_fingerprint == fingerprint and not force:
        params, current = store.stored_params(conn, run_id)
        url = run_url(previous.mlflow_run_id, previous.mlflow_experiment_id) if previous.mlflow_run_id else None
        outcome = CalibrationOutcome(run_id, exchange, underlying, snapshot.snapshot_ts, previous.status,
                                     previous.message, params, previous.metrics, current, previous.warm_start_from,
                                     previous.mlflow_run_id, url, reused=True)
        log.info("%s", outcome.summary())
        return outcome
    started = pd.Timestamp.now(tz="UTC")  # lineage only
    fit = fit_snapshot(snapshot, config, warm[1] if warm else None)
    warm_from = warm[0] if warm is not None and fit.initial_source == "warm_start" else None
    mlflow_run_id = None
    if experiment_id is not None:
        from cryptoderiv.calibration.mlflow_logging import find_run, log_calibration

        resume = None
        if previous is not None and previous.input_fingerprint == fingerprint:
            resume = find_run(previous.mlflow_run_id)
        mlflow_run_id = log_calibration(snapshot, fit, model_run_id=run_id, config=config_dict,
                                        warm_start_from=warm_from, experiment_id=experiment_id,
                                        resume_run_id=resume)
    is_current = store.save_run(conn, store.RunRecord(
        run_id=run_id, exchange=exchange, underlying=underlying, snapshot_ts=snapshot.snapshot_ts,
        status=fit.status, message=fit.message, n_quotes=fit.selection.n_selected, n_expiries=fit.n_expiries,
        metrics=fit.metrics, config=config_dict, input_fingerprint=fingerprint, warm_start_from=warm_from,
        mlflow_run_id=mlflow_run_id, mlflow_experiment_id=experiment_id, started_at=started,
        params=fit.params, premium_currency=snapshot.premium_currency))
    url = run_url(mlflow_run_id, experiment_id) if mlflow_run_id else None
    outcome = CalibrationOutcome(run_id, exchange, underlying, snapshot.snapshot_ts, fit.status, fit.message,
                                 fit.params, fit.metrics, is_current, warm_from, mlflow_run_id, url, reused=False)
    log.info("%s", outcome.summary())
    return outcome
