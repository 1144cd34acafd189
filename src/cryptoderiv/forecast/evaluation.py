"""Forecast evaluation: loss functions, out-of-sample R^2 and the Diebold-Mariano test.

Variance forecasts are judged with QLIKE (robust to noise in the realised-variance proxy, Patton 2011)
and MSE; every model is compared with HAR-RV by the Diebold-Mariano test with the Harvey-Leybourne-
Newbold small-sample correction.

References
----------
.. [1] A. J. Patton, "Volatility forecast comparison using imperfect volatility proxies", Journal of
   Econometrics 160 (2011) 246-256, eq. (24) with b = -2 (QLIKE).
.. [2] F. X. Diebold, R. S. Mariano, "Comparing predictive accuracy", Journal of Business & Economic
   Statistics 13 (1995) 253-263.
.. [3] D. Harvey, S. Leybourne, P. Newbold, "Testing the equality of prediction mean squared errors",
   International Journal of Forecasting 13 (1997) 281-291, eq. (9).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from cryptoderiv.errors import CryptoderivError

FloatArray = npt.NDArray[np.float64]
Loss = Literal["squared", "absolute", "precomputed"]
Alternative = Literal["two-sided", "less", "greater"]


class EvaluationError(CryptoderivError):
    """Inputs cannot be evaluated (mismatched lengths, non-positive variances, too few points)."""


def _pair(realized: npt.ArrayLike, forecast: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    y = np.asarray(realized, dtype=np.float64).ravel()
    f = np.asarray(forecast, dtype=np.float64).ravel()
    if y.shape != f.shape:
        raise EvaluationError(f"realised ({y.size}) and forecast ({f.size}) differ in length")
    if y.size == 0:
        raise EvaluationError("nothing to evaluate: empty sample")
    return y, f


def qlike_losses(realized_var: npt.ArrayLike, forecast_var: npt.ArrayLike) -> FloatArray:
    """Per-observation QLIKE losses ``y/f - log(y/f) - 1`` (Patton's normalisation, 0 at ``f == y``).

    Parameters
    ----------
    realized_var, forecast_var : array_like
        Realised variance (the proxy) and forecast variance, same units (e.g. decimal^2 per day); > 0.

    Returns
    -------
    numpy.ndarray
        One loss per observation, >= 0.

    Raises
    ------
    EvaluationError
        On different lengths, or a non-positive / non-finite value (its position is named).
    """
    y, f = _pair(realized_var, forecast_var)
    for name, arr in (("realised variance", y), ("forecast variance", f)):
        bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
        if bad.size:
            raise EvaluationError(f"QLIKE needs positive finite variances: {name} at position {int(bad[0])}"
                                  f" is {arr[bad[0]]!r} ({bad.size} such)")
    ratio = y / f
    return np.asarray(ratio - np.log(ratio) - 1.0, dtype=np.float64)


def qlike(realized_var: npt.ArrayLike, forecast_var: npt.ArrayLike) -> float:
    """Mean QLIKE loss of variance forecasts (Patton 2011, eq. 24 with b = -2).

    Parameters
    ----------
    realized_var : array_like
        Realised variance per observation (> 0), e.g. decimal^2 per day.
    forecast_var : array_like
        Forecast of the same variance, same units (> 0).

    Returns
    -------
    float
        ``mean(y/f - log(y/f) - 1)``; 0 for a perfect forecast, scale-free.

    Notes
    -----
    :math:`L(y, f) = y/f - \\log(y/f) - 1`. It is robust to noise in the proxy ``y`` (the ranking of two
    forecasts by expected loss is the same as with the true variance), and its expected value is
    minimised by ``f = E[y]``. It penalises under-prediction more than over-prediction.
    """
    return float(np.mean(qlike_losses(realized_var, forecast_var)))


def mse(realized: npt.ArrayLike, forecast: npt.ArrayLike) -> float:
    """Mean squared error, in squared units of the target."""
    y, f = _pair(realized, forecast)
    return float(np.mean((y - f) ** 2))


def mae(realized: npt.ArrayLike, forecast: npt.ArrayLike) -> float:
    """Mean absolute error, in units of the target."""
    y, f = _pair(realized, forecast)
    return float(np.mean(np.abs(y - f)))


def oos_r2(realized: npt.ArrayLike, forecast: npt.ArrayLike, benchmark: npt.ArrayLike) -> float:
    """Out-of-sample R^2 against a benchmark forecast (Campbell-Thompson style).

    ``1 - sum((y - f)^2) / sum((y - b)^2)``: positive when the forecast has a lower squared error than the
    benchmark (here the no-change forecast), 0 when equal, unbounded below.
    """
    y, f = _pair(realized, forecast)
    _, b = _pair(realized, benchmark)
    denominator = float(np.sum((y - b) ** 2))
    if denominator == 0.0:
        raise EvaluationError("the benchmark forecast is perfect: out-of-sample R^2 undefined")
    return 1.0 - float(np.sum((y - f) ** 2)) / denominator


def diebold_mariano(e1: npt.ArrayLike, e2: npt.ArrayLike, h: int = 1, loss: Loss = "squared", hln: bool = True,
                    alternative: Alternative = "two-sided") -> tuple[float, float]:
    """Diebold-Mariano test of equal predictive accuracy, with the Harvey-Leybourne-Newbold correction.

    Parameters
    ----------
    e1, e2 : array_like
        Forecast errors (realised - forecast) of models 1 and 2 on the same targets; with
        ``loss="precomputed"`` the per-observation losses themselves (e.g. :func:`qlike_losses`).
    h : int
        Forecast horizon in periods; the long-run variance uses autocovariances up to lag ``h - 1``
        (uniform weights, as in Diebold and Mariano 1995).
    loss : {"squared", "absolute", "precomputed"}
        Loss applied to the errors.
    hln : bool
        Apply the Harvey-Leybourne-Newbold (1997) small-sample correction and use Student's t with
        T - 1 degrees of freedom; otherwise the plain DM statistic with a standard normal.
    alternative : {"two-sided", "less", "greater"}
        "less": model 1 has the lower expected loss (the statistic is negative then).

    Returns
    -------
    (float, float)
        The statistic and its p-value.

    Notes
    -----
    With :math:`d_t = L(e_{1t}) - L(e_{2t})`, :math:`\\bar d` its mean and :math:`\\hat\\gamma_k` its
    autocovariances (divisor T), :math:`DM = \\bar d / \\sqrt{(\\hat\\gamma_0 + 2\\sum_{k=1}^{h-1}
    \\hat\\gamma_k)/T}` and :math:`DM^* = DM\\sqrt{(T + 1 - 2h + h(h-1)/T)/T}` (HLN eq. 9). For h = 1
    the corrected statistic equals the one-sample t statistic of :math:`d_t`. A non-positive long-run
    variance estimate (possible for h > 1) falls back to :math:`\\hat\\gamma_0` alone.

    Raises
    ------
    EvaluationError
        On mismatched lengths, fewer than 3 observations, h < 1, a constant loss differential.
    """
    a, b = _pair(e1, e2)
    if h < 1:
        raise EvaluationError(f"horizon h must be >= 1, got {h}")
    if loss == "squared":
        d = a**2 - b**2
    elif loss == "absolute":
        d = np.abs(a) - np.abs(b)
    elif loss == "precomputed":
        d = a - b
    else:
        raise EvaluationError(f"unknown loss {loss!r}")
    if not np.all(np.isfinite(d)):
        raise EvaluationError(f"non-finite loss differential at position {int(np.flatnonzero(~np.isfinite(d))[0])}")
    T = d.size
    if T < 3:
        raise EvaluationError(f"the Diebold-Mariano test needs at least 3 observations, got {T}")
    centred = d - d.mean()
    gamma = [float(centred @ centred) / T]
    gamma += [float(centred[k:] @ centred[:-k]) / T for k in range(1, min(h, T))]
    long_run = gamma[0] + 2.0 * sum(gamma[1:])
    if long_run <= 0.0:
        long_run = gamma[0]
    if long_run <= 0.0:
        raise EvaluationError("the loss differential is constant: the Diebold-Mariano statistic is undefined")
    statistic = float(d.mean() / np.sqrt(long_run / T))
    if hln:
        statistic *= float(np.sqrt((T + 1 - 2 * h + h * (h - 1) / T) / T))
        dist: stats.rv_continuous = stats.t(df=T - 1)
    else:
        dist = stats.norm()
    if alternative == "two-sided":
        p_value = 2.0 * float(dist.sf(abs(statistic)))
    elif alternative == "less":
        p_value = float(dist.cdf(statistic))
    elif alternative == "greater":
        p_value = float(dist.sf(statistic))
    else:
        raise EvaluationError(f"unknown alternative {alternative!r}")
    return statistic, p_value
