"""MLflow tracking set-up shared by every model of the platform.

All code that logs to MLflow goes through :func:`configure_mlflow` instead of calling
``mlflow.set_tracking_uri`` itself, so the tracking store is always the one named by
:attr:`cryptoderiv.config.Settings.resolved_mlflow_uri` (``MLFLOW_TRACKING_URI``; unset: a local store
under ``LOCAL_DIR``). Links shown to people (logs, reports, the dashboard) come from :func:`run_url`,
which points at :attr:`cryptoderiv.config.Settings.mlflow_ui_url` (``MLFLOW_UI_URL``).

``mlflow`` is imported lazily inside the functions: this module is imported by DAG files and the CLI.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cryptoderiv.config import get_settings
from cryptoderiv.errors import ConfigurationError

logger = logging.getLogger(__name__)


def configure_mlflow(experiment: str) -> str:
    """Point MLflow at the platform tracking store and select (creating if needed) an experiment.

    Parameters
    ----------
    experiment : str
        Experiment name, e.g. ``"heston-calibration"``. Created on first use.

    Returns
    -------
    str
        The experiment id.

    Raises
    ------
    ConfigurationError
        If the experiment name is empty or the experiment exists but is deleted.

    Notes
    -----
    With a direct ``sqlite:///path/mlflow.db`` tracking URI (no server), a new experiment stores its
    artifacts in ``path/artifacts`` instead of MLflow's default ``./mlruns`` under the working directory.
    """
    if not experiment.strip():
        raise ConfigurationError("configure_mlflow: experiment name must not be empty")
    import mlflow

    uri = get_settings().resolved_mlflow_uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    try:
        if mlflow.get_experiment_by_name(experiment) is None and uri.startswith("sqlite:///"):
            # a direct sqlite store has no artifact root: keep artifacts beside the database, not in the cwd
            root = Path(uri.removeprefix("sqlite:///")).parent / "artifacts"
            mlflow.create_experiment(experiment, artifact_location=root.resolve().as_uri())
        exp = mlflow.set_experiment(experiment)
    except mlflow.exceptions.MlflowException as exc:
        raise ConfigurationError(
            f"configure_mlflow: cannot use experiment {experiment!r} at tracking URI {uri!r}: {exc}"
        ) from exc
    logger.debug("MLflow tracking %s, experiment %s (id %s)", uri, experiment, exp.experiment_id)
    return str(exp.experiment_id)


def run_url(run_id: str, experiment_id: str | None = None) -> str:
    """Link to a run in the MLflow UI at ``settings.mlflow_ui_url``.

    Parameters
    ----------
    run_id : str
        MLflow run id.
    experiment_id : str, optional
        When given, the link goes straight to the run page under its experiment; otherwise it uses
        the UI's ``#/runs/<run_id>`` route, which redirects to the run's experiment.

    Returns
    -------
    str
        URL such as ``http://127.0.0.1:5000/#/experiments/1/runs/<run_id>``.
    """
    if not run_id.strip():
        raise ConfigurationError("run_url: run_id must not be empty")
    base = get_settings().mlflow_ui_url.rstrip("/")
    if experiment_id:
        return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"
    return f"{base}/#/runs/{run_id}"
