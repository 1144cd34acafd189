"""The MLflow model of a target: one fitted forecaster per series, behind the pyfunc interface.

Input (the signature): a long table with columns ``series`` (``exchange:symbol``), ``ts`` (UTC period
open), ``value`` and ``ret`` (NaN for level series) holding the recent history of each series. Output:
one row per series with ``series``, ``ts`` (the last period used) and ``forecast`` (the target's unit).
Times are UTC, passed without a time zone (MLflow's schema accepts naive datetimes only).
The same model kind is used for every series, so ``models:/<name>@champion`` is one thing to load.

Imports mlflow at module level: import this module lazily (it is not imported by DAG files).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from cryptoderiv.forecast.baselines import Forecaster
from cryptoderiv.forecast.data import ForecastDataError

BUNDLE_ARTIFACT = "bundle"


def predict_bundle(bundle: dict[str, Forecaster], history: pd.DataFrame) -> pd.DataFrame:
    """Forecast from the last row of each series in ``history`` (see the module docstring)."""
    rows: list[dict[str, Any]] = []
    for key, part in history.groupby("series", sort=True):
        estimator = bundle.get(str(key))
        if estimator is None:
            raise ForecastDataError(f"the model has no fitted forecaster for series {key!r}; has {sorted(bundle)}")
        frame = part.assign(ts=pd.to_datetime(part["ts"], utc=True)).set_index("ts").sort_index()
        columns = ["value"] if frame["ret"].isna().all() else ["value", "ret"]
        forecast = estimator.predict(frame[columns].astype(np.float64))
        rows.append({"series": str(key), "ts": frame.index[-1].tz_localize(None), "forecast": float(forecast[-1])})
    return pd.DataFrame(rows, columns=["series", "ts", "forecast"])


class ForecasterBundle(PythonModel):
    """pyfunc wrapper of ``{series: fitted forecaster}`` pickled as the ``bundle`` artifact."""

    def load_context(self, context: Any) -> None:
        with Path(context.artifacts[BUNDLE_ARTIFACT]).open("rb") as fh:
            self.bundle: dict[str, Forecaster] = pickle.load(fh)

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        return predict_bundle(self.bundle, model_input)


def log_bundle(bundle: dict[str, Forecaster], history: pd.DataFrame, workdir: Path) -> Any:
    """Log the bundle as the run's ``model`` with an inferred signature; returns the ModelInfo."""
    from mlflow.models import infer_signature

    path = workdir / "bundle.pkl"
    with path.open("wb") as fh:
        pickle.dump(bundle, fh)
    output = predict_bundle(bundle, history)
    signature = infer_signature(history, output)
    return mlflow.pyfunc.log_model(name="model", python_model=ForecasterBundle(),
                                   artifacts={BUNDLE_ARTIFACT: str(path)}, signature=signature)
