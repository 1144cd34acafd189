"""Walk-forward evaluation with an expanding window, and the comparison table.

Folds: the test rows from ``test_start`` on are cut into consecutive blocks of ``refit_every`` rows.
For fold k the model is fitted on the rows *before* the block (an expanding window from the first row;
inside it only targets that are complete inside it are used, so no training target reaches into the
block) and then forecasts each row ``t`` of the block from rows ``<= t`` (the estimators' ``predict`` is
causal). A forecast made at ``t`` therefore depends on data up to ``t`` only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cryptoderiv.forecast import evaluation as ev
from cryptoderiv.forecast.baselines import EWMA, GARCH11, HAR, FitError, Forecaster, NoChange
from cryptoderiv.forecast.data import TargetSpec, as_float_frame, target

log = logging.getLogger(__name__)

BENCHMARK = "har"
NAIVE = "no_change"
MODEL_KINDS = ("no_change", "ewma", "har", "garch", "lstm")


def make_forecaster(kind: str, spec: TargetSpec, params: Mapping[str, Any] | None = None,
                    random_state: int = 0) -> Forecaster:
    """A fresh estimator of ``kind`` for ``spec`` with hyperparameters ``params``."""
    p = dict(params or {})
    common: dict[str, Any] = {"horizon": spec.horizon, "kind": spec.kind, "random_state": random_state}
    if kind == "no_change":
        return NoChange(**common)
    if kind == "ewma":
        return EWMA(**common, **p)
    if kind == "har":
        return HAR(**common, **p)
    if kind == "garch":
        if spec.kind != "variance":
            raise FitError(f"GARCH(1,1) forecasts variances, not the level target {spec.name}")
        return GARCH11(**common, **p)
    if kind == "lstm":
        from cryptoderiv.forecast.lstm import LSTMForecaster

        return LSTMForecaster(**common, **p)
    raise FitError(f"unknown model kind {kind!r}; expected one of {MODEL_KINDS}")


def kinds_for(spec: TargetSpec, kinds: tuple[str, ...] = MODEL_KINDS) -> tuple[str, ...]:
    """The model kinds that apply to a target (GARCH only to variances)."""
    return tuple(k for k in kinds if k != "garch" or spec.kind == "variance")


@dataclass(frozen=True)
class WalkForwardResult:
    """Out-of-sample forecasts of one model: ``forecasts`` indexed by the as-of row (UTC period open)
    with columns ``forecast``, ``realized``, ``fold``; ``fit_seconds`` per fold."""

    model: str
    forecasts: pd.DataFrame
    fit_seconds: tuple[float, ...]


def fold_starts(index: pd.DatetimeIndex, test_start: pd.Timestamp, refit_every: int) -> list[int]:
    """Row positions where folds begin."""
    first = int(index.searchsorted(test_start))
    return list(range(first, len(index), refit_every))


def walk_forward(frame: pd.DataFrame, make_model: Callable[[], Forecaster], horizon: int,
                 test_start: pd.Timestamp, refit_every: int, name: str = "model") -> WalkForwardResult:
    """Expanding-window walk-forward forecasts of ``make_model()`` on ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        A series frame (UTC period index; ``value``, and ``ret`` for GARCH).
    make_model : callable
        Returns a fresh, unfitted estimator (called once per fold).
    horizon : int
        Periods averaged by the target (must match the estimator's).
    test_start : pandas.Timestamp
        First as-of row that is forecast out of sample.
    refit_every : int
        Rows per fold (the model is refitted before each fold).
    name : str
        Model name for the result.

    Returns
    -------
    WalkForwardResult
        Rows whose realised target is known (the last ``horizon`` rows are dropped).
    """
    as_float_frame(frame)
    if refit_every < 1:
        raise FitError(f"refit_every must be >= 1, got {refit_every}")
    realized = target(frame, horizon).to_numpy(dtype=np.float64)
    starts = fold_starts(pd.DatetimeIndex(frame.index), test_start, refit_every)
    if not starts or starts[0] == 0:
        raise FitError(f"{name}: no training rows before the test start {test_start}"
                       f" ({len(frame)} rows from {frame.index[0] if len(frame) else None})")
    parts: list[pd.DataFrame] = []
    seconds: list[float] = []
    for k, lo in enumerate(starts):
        hi = min(lo + refit_every, len(frame))
        t0 = time.perf_counter()
        model = make_model().fit(frame.iloc[:lo])
        seconds.append(time.perf_counter() - t0)
        forecast = model.predict(frame.iloc[:hi])[lo:hi]
        parts.append(pd.DataFrame({"forecast": forecast, "realized": realized[lo:hi], "fold": k},
                                  index=frame.index[lo:hi]))
    out = pd.concat(parts)
    out = out[np.isfinite(out["realized"])]
    log.info("%s: %d out-of-sample forecasts in %d folds", name, len(out), len(starts))
    return WalkForwardResult(name, out, tuple(seconds))


def losses(spec: TargetSpec, realized: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Per-row loss the target is ranked by: QLIKE for variances, squared error for levels."""
    if spec.kind == "variance":
        return ev.qlike_losses(realized, forecast)
    return np.asarray((realized - forecast) ** 2, dtype=np.float64)


def metrics(spec: TargetSpec, frame: pd.DataFrame, naive: pd.DataFrame, bench: pd.DataFrame | None) -> dict[str, float]:
    """QLIKE (variances), MSE, MAE, R^2 vs no-change and the DM test vs the benchmark on common rows."""
    idx = frame.index.intersection(naive.index)
    if bench is not None:
        idx = idx.intersection(bench.index)
    y = frame.loc[idx, "realized"].to_numpy()
    f = frame.loc[idx, "forecast"].to_numpy()
    out: dict[str, float] = {"n": float(len(idx))}
    if len(idx) == 0:
        return out
    if spec.kind == "variance":
        out["qlike"] = ev.qlike(y, f)
    out["mse"] = ev.mse(y, f)
    out["mae"] = ev.mae(y, f)
    try:
        out["r2_vs_no_change"] = ev.oos_r2(y, f, naive.loc[idx, "forecast"].to_numpy())
    except ev.EvaluationError:
        out["r2_vs_no_change"] = float("nan")
    if bench is not None and len(idx) >= 3:
        lb = losses(spec, y, bench.loc[idx, "forecast"].to_numpy())
        lm = losses(spec, y, f)
        if np.array_equal(lb, lm):
            out["dm_stat"], out["dm_p_value"] = float("nan"), float("nan")
        else:
            out["dm_stat"], out["dm_p_value"] = ev.diebold_mariano(lm, lb, h=spec.horizon, loss="precomputed")
    return out


def comparison_table(spec: TargetSpec, results: Mapping[str, WalkForwardResult]) -> pd.DataFrame:
    """One row per model: n, QLIKE, MSE, MAE, R^2 vs no-change, DM statistic and p-value vs HAR-RV.

    The DM test compares per-row losses (QLIKE for variances, squared error for levels) with
    autocovariances up to ``horizon - 1`` and the HLN correction; a negative statistic means the model's
    loss is lower than HAR-RV's. Only rows every model forecast are used.
    """
    if NAIVE not in results:
        raise FitError("the comparison needs the no-change forecasts")
    common = None
    for r in results.values():
        finite = r.forecasts[np.isfinite(r.forecasts["forecast"])].index
        common = finite if common is None else common.intersection(finite)
    assert common is not None
    naive = results[NAIVE].forecasts.loc[common]
    bench = results[BENCHMARK].forecasts.loc[common] if BENCHMARK in results else None
    rows = []
    for name, r in results.items():
        row = {"model": name, **metrics(spec, r.forecasts.loc[common], naive, bench)}
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


def fold_table(spec: TargetSpec, results: Mapping[str, WalkForwardResult]) -> pd.DataFrame:
    """Metrics per model and fold (long format: model, fold, window_start, window_end, metrics)."""
    naive = results[NAIVE].forecasts
    bench = results[BENCHMARK].forecasts if BENCHMARK in results else None
    rows = []
    for name, r in results.items():
        f = r.forecasts[np.isfinite(r.forecasts["forecast"])]
        for fold, part in f.groupby("fold"):
            m = metrics(spec, part, naive, bench)
            rows.append({"model": name, "fold": int(fold), "window_start": part.index.min(),
                         "window_end": part.index.max(), **m})
    return pd.DataFrame(rows)
