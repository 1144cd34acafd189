"""The baselines every serious volatility-forecast comparison uses, as scikit-learn-style estimators.

Each estimator takes a series frame (:mod:`cryptoderiv.forecast.data`): ``fit(frame)`` learns from the
rows whose targets are known inside ``frame`` and returns ``self`` (learned attributes end in ``_``);
``predict(frame)`` returns, for every row ``t``, the forecast of the mean of ``value`` over the next
``horizon`` rows using rows ``<= t`` only (NaN where the history is too short).

References
----------
.. [1] J. P. Morgan/Reuters, "RiskMetrics - Technical Document", 4th ed., 1996 (EWMA, lambda = 0.94).
.. [2] F. Corsi, "A simple approximate long-memory model of realized volatility", Journal of Financial
   Econometrics 7 (2009) 174-196, eq. (8) (HAR-RV).
.. [3] T. Bollerslev, "Generalized autoregressive conditional heteroskedasticity", Journal of
   Econometrics 31 (1986) 307-327 (GARCH(1,1)).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from cryptoderiv.errors import CryptoderivError
from cryptoderiv.forecast.data import TargetKind, as_float_frame, target

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]


class NotFittedError(CryptoderivError):
    """``predict`` was called before ``fit``."""


class FitError(CryptoderivError):
    """An estimator could not be fitted (too little data, no convergence)."""


class Forecaster:
    """Base class: hyperparameters in ``__init__``, ``fit`` returns self, ``predict`` is causal."""

    name = "forecaster"
    horizon: int
    kind: TargetKind

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments (scikit-learn convention)."""
        import inspect

        return {p: getattr(self, p) for p in inspect.signature(type(self).__init__).parameters if p != "self"}

    def fit(self, frame: pd.DataFrame) -> Forecaster:  # pragma: no cover - interface
        raise NotImplementedError

    def predict(self, frame: pd.DataFrame) -> FloatArray:  # pragma: no cover - interface
        raise NotImplementedError

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(f"{type(self).__name__} is not fitted: call fit() first")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _floor(kind: TargetKind, values: FloatArray, floor: float) -> FloatArray:
    return np.maximum(values, floor) if kind == "variance" else values


class NoChange(Forecaster):
    """Random walk: the forecast is the mean of the last ``horizon`` observations.

    For a one-period target that is the last value; for an h-period mean it is the trailing h-period
    mean, the same aggregation as the target.
    """

    name = "no_change"

    def __init__(self, horizon: int = 1, kind: TargetKind = "variance", random_state: int | None = None) -> None:
        self.horizon = horizon
        self.kind = kind
        self.random_state = random_state

    def fit(self, frame: pd.DataFrame) -> NoChange:
        as_float_frame(frame)
        self.n_train_ = len(frame)
        return self

    def predict(self, frame: pd.DataFrame) -> FloatArray:
        self._check_fitted("n_train_")
        values = as_float_frame(frame)["value"].astype(np.float64)
        return values.rolling(self.horizon).mean().to_numpy(dtype=np.float64)


def ewma_filter(x: FloatArray, lam: float) -> FloatArray:
    """``s_t = lam * s_{t-1} + (1 - lam) * x_t`` with ``s_0 = x_0`` (vectorised through scipy's lfilter)."""
    from scipy.signal import lfilter

    if x.size == 0:
        return x.copy()
    zi = np.array([lam * x[0]])
    out, _ = lfilter([1.0 - lam], [1.0, -lam], x, zi=zi)
    return np.asarray(out, dtype=np.float64)


class EWMA(Forecaster):
    """RiskMetrics exponential smoothing of the per-period observation (lambda = 0.94 for daily data).

    Applied to the realised variance of each period (or the funding rate); the forecast is flat in the
    horizon, as in RiskMetrics. Nothing is estimated: ``fit`` only records ``lam_``.
    """

    name = "ewma"

    def __init__(self, horizon: int = 1, lam: float = 0.94, kind: TargetKind = "variance",
                 random_state: int | None = None) -> None:
        self.horizon = horizon
        self.lam = lam
        self.kind = kind
        self.random_state = random_state

    def fit(self, frame: pd.DataFrame) -> EWMA:
        if not 0.0 < self.lam < 1.0:
            raise FitError(f"EWMA lambda must be in (0, 1), got {self.lam}")
        as_float_frame(frame)
        self.lam_ = float(self.lam)
        return self

    def predict(self, frame: pd.DataFrame) -> FloatArray:
        self._check_fitted("lam_")
        return ewma_filter(as_float_frame(frame)["value"].to_numpy(dtype=np.float64), self.lam_)


def har_design(values: pd.Series, lags: tuple[int, int, int]) -> FloatArray:
    """HAR regressors per row: ``[1, mean of last lags[0], mean of last lags[1], mean of last lags[2]]``."""
    cols = [np.ones(len(values))]
    cols += [values.rolling(lag).mean().to_numpy(dtype=np.float64) for lag in lags]
    return np.column_stack(cols)


class HAR(Forecaster):
    """HAR-RV (Corsi 2009): OLS of the h-period-ahead mean on daily, weekly and monthly averages.

    ``y_t = b0 + bd RV_t + bw mean(RV_{t-6..t}) + bm mean(RV_{t-29..t}) + e`` with lags (1, 7, 30): crypto
    trades every day, so a week is 7 periods and a month 30 (Corsi's 1, 5, 22 are trading days).
    Variance forecasts are floored at ``floor_`` (the smallest positive training observation) so QLIKE is
    defined.
    """

    name = "har"

    def __init__(self, horizon: int = 1, lags: tuple[int, int, int] = (1, 7, 30), kind: TargetKind = "variance",
                 random_state: int | None = None) -> None:
        self.horizon = horizon
        self.lags = lags
        self.kind = kind
        self.random_state = random_state

    def fit(self, frame: pd.DataFrame) -> HAR:
        values = as_float_frame(frame)["value"].astype(np.float64)
        X = har_design(values, self.lags)
        y = target(frame, self.horizon).to_numpy(dtype=np.float64)
        ok = np.isfinite(X).all(axis=1) & np.isfinite(y)
        if ok.sum() < X.shape[1] + 5:
            raise FitError(f"HAR needs at least {X.shape[1] + 5} complete rows, got {int(ok.sum())}"
                           f" ({len(frame)} rows, lags {self.lags}, horizon {self.horizon})")
        coef, *_ = np.linalg.lstsq(X[ok], y[ok], rcond=None)
        self.coef_ = np.asarray(coef, dtype=np.float64)
        positive = values.to_numpy()[values.to_numpy() > 0]
        self.floor_ = float(positive.min()) if positive.size else 1e-12
        self.n_train_ = int(ok.sum())
        return self

    def predict(self, frame: pd.DataFrame) -> FloatArray:
        self._check_fitted("coef_")
        values = as_float_frame(frame)["value"].astype(np.float64)
        return _floor(self.kind, har_design(values, self.lags) @ self.coef_, self.floor_)


def garch_backcast(resid: FloatArray, tau: int = 75, lam: float = 0.94) -> float:
    """Initial variance: exponentially weighted (``lam``) mean of the first ``tau`` squared residuals."""
    n = min(tau, resid.size)
    w = lam ** np.arange(n)
    return float(np.sum(resid[:n] ** 2 * w) / w.sum())


def garch_variance(resid: FloatArray, omega: float, alpha: float, beta: float, backcast: float) -> FloatArray:
    """GARCH(1,1) conditional variances ``s_t = omega + alpha e_{t-1}^2 + beta s_{t-1}`` for t = 0..n.

    Pre-sample ``e_{-1}^2`` and ``s_{-1}`` are the backcast. Returns n + 1 values: the last is the
    one-step forecast after the sample.
    """
    from scipy.signal import lfilter

    e2_lag = np.concatenate(([backcast], resid**2))
    drive = omega + alpha * e2_lag
    out, _ = lfilter([1.0], [1.0, -beta], drive, zi=np.array([beta * backcast]))
    return np.asarray(out, dtype=np.float64)


def garch_loglik(params: FloatArray, resid: FloatArray, backcast: float) -> float:
    """Gaussian log-likelihood of GARCH(1,1) ``(omega, alpha, beta)``."""
    s = garch_variance(resid, float(params[0]), float(params[1]), float(params[2]), backcast)[:-1]
    return float(-0.5 * np.sum(np.log(2 * np.pi) + np.log(s) + resid**2 / s))


class GARCH11(Forecaster):
    """GARCH(1,1) with Gaussian innovations, fitted by maximum likelihood (SLSQP) on period log returns.

    Returns are multiplied by ``scale`` (100: percent) for the optimiser and demeaned with the training
    mean when ``demean``. The h-period forecast is the mean of the k-step variances
    ``sbar + (alpha + beta)^(k-1) (s_{t+1} - sbar)``, k = 1..h, ``sbar = omega / (1 - alpha - beta)``,
    converted back to decimal^2 per period. Needs the ``ret`` column.
    """

    name = "garch"

    def __init__(self, horizon: int = 1, demean: bool = True, scale: float = 100.0, kind: TargetKind = "variance",
                 random_state: int | None = None) -> None:
        self.horizon = horizon
        self.demean = demean
        self.scale = scale
        self.kind = kind
        self.random_state = random_state

    def fit(self, frame: pd.DataFrame) -> GARCH11:
        r = as_float_frame(frame, ("ret",))["ret"].to_numpy(dtype=np.float64) * self.scale
        if r.size < 50:
            raise FitError(f"GARCH(1,1) needs at least 50 returns, got {r.size}")
        self.mu_ = float(r.mean()) if self.demean else 0.0
        resid = r - self.mu_
        backcast = garch_backcast(resid)
        var = float(resid.var())
        x0 = np.array([var * 0.05, 0.10, 0.85])
        bounds = [(1e-8 * var, 10.0 * var), (0.0, 1.0), (0.0, 1.0)]
        constraints = [{"type": "ineq", "fun": lambda p: np.array([0.99999 - p[1] - p[2]])}]
        best: optimize.OptimizeResult | None = None
        for start in (x0, np.array([var * 0.2, 0.05, 0.75]), np.array([var * 0.01, 0.05, 0.94])):
            res = optimize.minimize(lambda p: -garch_loglik(p, resid, backcast), start, method="SLSQP",
                                    bounds=bounds, constraints=constraints,
                                    options={"ftol": 1e-10, "maxiter": 500})
            if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
                best = res
        if best is None or not best.success:
            raise FitError(f"GARCH(1,1) likelihood did not converge: {getattr(best, 'message', 'no result')}")
        self.omega_, self.alpha_, self.beta_ = (float(v) for v in best.x)
        self.loglik_ = float(-best.fun)
        self.backcast_ = backcast
        self.n_train_ = int(r.size)
        return self

    def conditional_variance(self, frame: pd.DataFrame) -> FloatArray:
        """One-step-ahead variances ``s_{t+1|t}`` for each row (scaled units, e.g. percent^2)."""
        self._check_fitted("omega_")
        r = as_float_frame(frame, ("ret",))["ret"].to_numpy(dtype=np.float64) * self.scale - self.mu_
        return garch_variance(r, self.omega_, self.alpha_, self.beta_, self.backcast_)[1:]

    def predict(self, frame: pd.DataFrame) -> FloatArray:
        s1 = self.conditional_variance(frame)
        persistence = self.alpha_ + self.beta_
        sbar = self.omega_ / (1.0 - persistence)
        weights = persistence ** np.arange(self.horizon)
        mean_k = sbar + (s1[:, None] - sbar) * weights[None, :]
        return np.asarray(mean_k.mean(axis=1) / self.scale**2, dtype=np.float64)
