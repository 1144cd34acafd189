"""One MLflow run per calibration: parameters, fit metrics, status tags, smile plots and the fitted quotes.

``mlflow`` and matplotlib are imported lazily (DAG files import the package). The tracking store and
experiment are set by :func:`cryptoderiv.tracking.configure_mlflow` before these functions are called.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from cryptoderiv.calibration.fit import SnapshotFit
from cryptoderiv.calibration.smile_plot import plot_smiles
from cryptoderiv.calibration.snapshots import ChainSnapshot

log = logging.getLogger(__name__)


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), sub, out)
    else:
        out[prefix] = json.dumps(value) if isinstance(value, list | tuple) else str(value)


def find_run(run_id: str | None) -> str | None:
    """``run_id`` if that run exists in the current tracking store, else None."""
    if not run_id:
        return None
    import mlflow

    try:
        return str(mlflow.get_run(run_id).info.run_id)
    except mlflow.exceptions.MlflowException:
        return None


def log_calibration(snapshot: ChainSnapshot, fit: SnapshotFit, *, model_run_id: str, config: dict[str, Any],
                    warm_start_from: pd.Timestamp | None, experiment_id: str,
                    resume_run_id: str | None = None) -> str:
    """Log one calibration as an MLflow run and return the MLflow run id.

    Parameters
    ----------
    snapshot : ChainSnapshot
        The calibrated snapshot.
    fit : SnapshotFit
        Its outcome.
    model_run_id : str
        The ``model_runs.run_id`` (tag ``cryptoderiv.model_run_id``).
    config : dict
        :meth:`CalibrationConfig.as_dict`, logged as params.
    warm_start_from : pandas.Timestamp or None
        Snapshot of the warm-start parameters.
    experiment_id : str
        Experiment of the run (from :func:`cryptoderiv.tracking.configure_mlflow`).
    resume_run_id : str, optional
        Existing run of the same snapshot and inputs to log into again (forced re-runs) instead of a new one.

    Returns
    -------
    str
        MLflow run id. Runs of ``failed`` calibrations end with MLflow status ``FAILED``.
    """
    import mlflow

    params: dict[str, str] = {}
    _flatten("", {"exchange": snapshot.exchange, "underlying": snapshot.underlying,
                  "snapshot_ts": snapshot.snapshot_ts.isoformat(), "initial_source": fit.initial_source,
                  "warm_start_from": warm_start_from.isoformat() if warm_start_from is not None else "none",
                  "config": config}, params)
    if fit.initial is not None:
        params.update({f"initial.{k}": f"{v:.10g}" for k, v in zip(
            ("v0", "kappa", "theta", "sigma", "rho"), fit.initial.to_array().tolist(), strict=True)})
    metrics: dict[str, float] = {
        "n_quotes_total": float(fit.selection.n_total), "n_quotes_illiquid": float(fit.selection.n_illiquid),
        "n_quotes_thin_expiry": float(fit.selection.n_thin_expiry), **fit.metrics}
    if fit.params is not None:
        metrics.update(dict(zip(("v0", "kappa", "theta", "sigma", "rho"), fit.params.to_array().tolist(),
                                strict=True)))
    tags = {"cryptoderiv.model_run_id": model_run_id, "calibration_status": fit.status,
            "calibration_message": fit.message[:4000], "exchange": snapshot.exchange,
            "underlying": snapshot.underlying, "snapshot_ts": snapshot.snapshot_ts.isoformat(),
            "model": "heston"}
    nested = mlflow.active_run() is not None
    if resume_run_id:
        run = mlflow.start_run(run_id=resume_run_id, nested=nested)
    else:
        name = f"heston-{snapshot.exchange}-{snapshot.underlying}-{snapshot.snapshot_ts.strftime('%Y%m%dT%H%M%SZ')}"
        run = mlflow.start_run(experiment_id=experiment_id, run_name=name, nested=nested)
    end_status = "FAILED"
    try:
        _log_contents(snapshot, fit, model_run_id, params, metrics, tags)
        end_status = "FAILED" if fit.status == "failed" else "FINISHED"
    finally:
        mlflow.end_run(status=end_status)
    run_id = str(run.info.run_id)
    log.debug("logged %s to MLflow run %s", model_run_id, run_id)
    return run_id


def _log_contents(snapshot: ChainSnapshot, fit: SnapshotFit, model_run_id: str, params: dict[str, str],
                  metrics: dict[str, float], tags: dict[str, str]) -> None:
    import mlflow

    mlflow.set_tags(tags)
    mlflow.log_params(params)
    mlflow.log_metrics({k: v for k, v in metrics.items() if v == v})  # NaN metrics are left out
    with tempfile.TemporaryDirectory(prefix="cryptoderiv-heston-") as tmp:
        out = Path(tmp)
        summary = {"model_run_id": model_run_id, "status": fit.status, "message": fit.message,
                   "params": None if fit.params is None else dict(zip(
                       ("v0", "kappa", "theta", "sigma", "rho"), fit.params.to_array().tolist(), strict=True)),
                   "metrics": fit.metrics}
        (out / "calibration.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str))
        mlflow.log_artifact(str(out / "calibration.json"))
        if not fit.quotes.empty:
            fit.quotes.to_csv(out / "fit_quotes.csv", index=False)
            mlflow.log_artifact(str(out / "fit_quotes.csv"))
        if fit.params is not None and not fit.quotes.empty:
            plot_smiles(fit.quotes, fit.params, out / "smiles",
                        f"{snapshot.exchange} {snapshot.underlying} {snapshot.snapshot_ts:%Y-%m-%d %H:%M}Z")
            mlflow.log_artifacts(str(out / "smiles"), artifact_path="smiles")
