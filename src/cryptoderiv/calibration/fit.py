r"""Calibrate Heston to one chain snapshot and judge the fit.

The optimiser is :func:`cryptoderiv.pricing.heston_calibration.calibrate` (analytic gradient,
Levenberg-Marquardt; Cui et al. 2017) on the selected liquid quotes, USD prices per option on one coin on
the per-expiry forward with zero rate. This module adds what a tracked model needs around it: the warm
start from the previous good parameters (with a cold restart from the data-driven guess when the warm fit is
not acceptable), the fit metrics, and the acceptance rules that decide the status:

``failed``
    no fit: too few liquid quotes, the optimiser raised, or it stopped without meeting a convergence
    criterion (iteration limit, non-finite residuals);
``rejected``
    converged, but RMSE in implied volatility > ``max_rmse_iv`` or share of model prices inside the quoted
    spread < ``min_within_spread``;
``converged``
    accepted; these become the current parameters.

Metrics (all over the fitted quotes): ``rmse_iv`` and ``max_abs_iv_error`` (model minus market Black-76 IV,
vol decimal), ``rmse_premium_usd`` (model minus market price, USD per option on one coin),
``rmse_premium`` (the same in the premium currency: coin for inverse options, i.e. divided by the forward),
``within_spread`` (share of model prices in ``[bid, ask]``), ``iterations``, ``n_evaluations``,
``wall_time_s``, ``feller_ratio`` :math:`2\kappa\theta/\sigma^2` and ``feller_satisfied`` (ratio >= 1).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from cryptoderiv.calibration.config import CalibrationConfig
from cryptoderiv.calibration.snapshots import ChainSnapshot, QuoteSelection, select_quotes
from cryptoderiv.pricing import heston, implied_vol
from cryptoderiv.pricing.heston import HestonParameterError, HestonParams
from cryptoderiv.pricing.heston_calibration import HestonCalibrationResult, calibrate

log = logging.getLogger(__name__)

Status = Literal["converged", "failed", "rejected"]
STATUSES: tuple[Status, ...] = ("converged", "failed", "rejected")


@dataclass(frozen=True)
class SnapshotFit:
    """Outcome of :func:`fit_snapshot`.

    Attributes
    ----------
    status : {"converged", "failed", "rejected"}
        See the module docstring.
    message : str
        Optimiser message, rejection rule or failure reason.
    params : HestonParams or None
        Calibrated parameters (None when no fit was made).
    metrics : dict of str to float
        Fit metrics (module docstring); empty when no fit was made.
    selection : QuoteSelection
        The quotes fitted.
    initial_source : str
        ``"warm_start"`` (previous good parameters), ``"data"`` (data-driven guess) or ``"none"``.
    initial : HestonParams or None
        Starting point of the kept fit.
    quotes : pandas.DataFrame
        Per fitted quote: ``expiry``, ``strike``, ``option_type``, ``t`` (years), ``forward``, ``bid_usd``,
        ``ask_usd``, ``market_usd``, ``model_usd``, ``bid_iv``, ``ask_iv``, ``market_iv``, ``model_iv``
        (decimals); empty when no fit was made.
    """

    status: Status
    message: str
    params: HestonParams | None
    metrics: dict[str, float]
    selection: QuoteSelection
    initial_source: str
    initial: HestonParams | None
    quotes: pd.DataFrame = field(repr=False)

    @property
    def n_expiries(self) -> int:
        """Expiries among the fitted quotes."""
        return int(self.quotes["expiry"].nunique()) if not self.quotes.empty else 0


def _iv(kind: np.ndarray, price: np.ndarray, fwd: np.ndarray, strike: np.ndarray, t: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(implied_vol.implied_vol(kind, price, fwd, strike, t), dtype=np.float64)


def _metrics(result: HestonCalibrationResult, frame: pd.DataFrame, inverse: bool) -> dict[str, float]:
    err_usd = frame["model_usd"].to_numpy() - frame["market_usd"].to_numpy()
    err_premium = err_usd / frame["forward"].to_numpy() if inverse else err_usd
    model = frame["model_usd"].to_numpy()
    inside = (model >= frame["bid_usd"].to_numpy()) & (model <= frame["ask_usd"].to_numpy())
    p = result.params
    return {
        "rmse_iv": float(result.rmse_iv),
        "max_abs_iv_error": float(result.max_abs_iv_error),
        "rmse_premium_usd": float(np.sqrt(np.mean(err_usd**2))),
        "rmse_premium": float(np.sqrt(np.mean(err_premium**2))),
        "within_spread": float(np.mean(inside)),
        "iterations": float(result.iterations),
        "n_evaluations": float(result.n_evaluations),
        "wall_time_s": float(result.wall_time),
        "cost": float(result.cost),
        "feller_ratio": float(p.feller_ratio),
        "feller_satisfied": float(p.feller),
        "n_quotes": float(result.n_options),
        "n_expiries": float(frame["expiry"].nunique()),
    }


def _judge(result: HestonCalibrationResult, metrics: dict[str, float], config: CalibrationConfig) -> tuple[Status, str]:
    if not result.success:
        return "failed", f"not converged: {result.message}"
    if not math.isfinite(metrics["rmse_iv"]):
        return "failed", "no model implied volatility at the solution"
    if metrics["rmse_iv"] > config.max_rmse_iv:
        return "rejected", (f"RMSE in IV {metrics['rmse_iv']:.4f} above the threshold {config.max_rmse_iv:.4f}"
                            f" ({result.message})")
    if metrics["within_spread"] < config.min_within_spread:
        return "rejected", (f"only {metrics['within_spread']:.1%} of model prices inside the spread, below"
                            f" {config.min_within_spread:.1%} ({result.message})")
    return "converged", result.message


def _fit_frame(snapshot: ChainSnapshot, selection: QuoteSelection, config: CalibrationConfig) -> pd.DataFrame:
    q = snapshot.quotes[selection.mask]
    t = snapshot.time_to_expiry()[selection.mask]
    fwd = snapshot.expiry_forward()[selection.mask]
    bid, ask = q["bid_usd"].to_numpy(np.float64), q["ask_usd"].to_numpy(np.float64)
    market = 0.5 * (bid + ask) if config.price_source == "mid" else q["mark_usd"].to_numpy(np.float64)
    kind = q["option_type"].to_numpy()
    strike = q["strike"].to_numpy(np.float64)
    return pd.DataFrame({
        "symbol": q["symbol"].to_numpy(), "expiry": pd.to_datetime(q["expiry"], utc=True).to_numpy(),
        "strike": strike, "option_type": kind, "t": t, "forward": fwd, "bid_usd": bid, "ask_usd": ask,
        "market_usd": market, "bid_iv": _iv(kind, bid, fwd, strike, t), "ask_iv": _iv(kind, ask, fwd, strike, t),
    })


def fit_snapshot(snapshot: ChainSnapshot, config: CalibrationConfig | None = None,
                 warm_start: HestonParams | None = None) -> SnapshotFit:
    """Calibrate Heston to a snapshot's liquid quotes and decide the status.

    Parameters
    ----------
    snapshot : ChainSnapshot
        Quotes of one venue and underlying at one instant.
    config : CalibrationConfig, optional
        Selection, objective and acceptance rules (defaults: :class:`CalibrationConfig`).
    warm_start : HestonParams, optional
        Previous good parameters. Tried first; when that fit is not ``converged``, the data-driven guess is
        tried too and the better fit is kept (an accepted one first, then the lower objective).

    Returns
    -------
    SnapshotFit
        Status, parameters, metrics and the per-quote fit. Never raises for a bad snapshot: a snapshot that
        cannot be fitted is returned as ``failed`` with the reason.
    """
    config = config or CalibrationConfig()
    selection = select_quotes(snapshot, config)
    if selection.n_selected < config.min_quotes:
        message = (f"{selection.n_selected} liquid quotes, fewer than min_quotes={config.min_quotes}"
                   f" ({selection.n_total} quotes, {selection.n_illiquid} illiquid,"
                   f" {selection.n_thin_expiry} in thin expiries)")
        return SnapshotFit("failed", message, None, {}, selection, "none", None, pd.DataFrame())
    frame = _fit_frame(snapshot, selection, config)
    kind = frame["option_type"].to_numpy()
    starts: list[tuple[str, HestonParams | None]] = [("data", None)]
    if warm_start is not None:
        starts.insert(0, ("warm_start", warm_start))
    best: tuple[tuple[int, float], SnapshotFit] | None = None
    errors: list[str] = []
    for source, initial in starts:
        try:
            result = calibrate(
                kind, frame["strike"].to_numpy(), frame["t"].to_numpy(), frame["forward"].to_numpy(),
                price=frame["market_usd"].to_numpy(), objective=cast(Any, config.objective), initial=initial,
                max_iterations=config.max_iterations,
            )
        except (ValueError, HestonParameterError, FloatingPointError, np.linalg.LinAlgError) as exc:
            errors.append(f"{source}: {exc}")
            log.warning("snapshot %s: calibration from %s raised: %s", snapshot.label, source, exc)
            continue
        fitted = frame.assign(market_iv=result.market_iv, model_usd=result.model_price, model_iv=result.model_iv)
        metrics = _metrics(result, fitted, snapshot.is_inverse)
        status, message = _judge(result, metrics, config)
        fit = SnapshotFit(status, message, result.params, metrics, selection, source, result.initial, fitted)
        rank = (STATUSES.index(status) if status != "converged" else -1, result.cost)
        if best is None or rank < best[0]:
            best = (rank, fit)
        if status == "converged":
            break
    if best is None:
        return SnapshotFit("failed", "calibration raised: " + "; ".join(errors), None, {}, selection, "none",
                           None, pd.DataFrame())
    return best[1]


def smile_curve(params: HestonParams, forward: float, t: float, log_moneyness: np.ndarray) -> np.ndarray:
    """Model Black-76 implied volatilities of out-of-the-money options on a log-moneyness grid.

    Parameters
    ----------
    params : HestonParams
        Model parameters.
    forward : float
        Forward of the expiry (USD).
    t : float
        Time to expiry, ACT/365 years.
    log_moneyness : numpy.ndarray
        ``ln(K / F)`` grid.

    Returns
    -------
    numpy.ndarray
        Implied volatility (decimal) per grid point; NaN where the model price has none.
    """
    strike = forward * np.exp(np.asarray(log_moneyness, dtype=np.float64))
    kind = np.where(strike >= forward, "call", "put")
    price = np.asarray(heston.price_forward(kind, forward, strike, t, params), dtype=np.float64)
    return _iv(kind, price, np.full_like(strike, forward), strike, np.full_like(strike, t))


def timed_fit(snapshot: ChainSnapshot, config: CalibrationConfig | None,
              warm_start: HestonParams | None) -> tuple[SnapshotFit, float]:
    """:func:`fit_snapshot` and its wall time in seconds (selection, fits and metrics)."""
    start = time.perf_counter()
    fit = fit_snapshot(snapshot, config, warm_start)
    return fit, time.perf_counter() - start
