r"""Value at risk and expected shortfall: historical simulation with full revaluation, filtered historical
simulation (EWMA volatility scaling), Monte Carlo under Heston, and the parametric Gaussian comparison.

Every method except ``parametric`` produces *scenarios* - spot multipliers and parallel IV shifts per
underlying - and revalues the whole book on each with :func:`cryptoderiv.portfolio.valuation.revalue`
(options repriced with Black-76 on the shocked forward and shocked smile; no delta-gamma approximation).
VaR is the ``level`` quantile of the loss ``L = -P&L`` (USD, positive = loss); ES the mean loss at or beyond it.

h-day scenarios from daily data use overlapping h-day sums of daily log returns (and of vol changes).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from cryptoderiv.errors import CryptoderivError
from cryptoderiv.portfolio.valuation import Book, revalue
from cryptoderiv.pricing.heston import HestonParams

__all__ = ["RiskFigure", "Scenarios", "ewma_volatility", "fhs_scenarios", "hs_scenarios", "mc_heston_scenarios",
           "parametric_var", "scenario_var", "var_es"]

log = logging.getLogger(__name__)
FloatArray = NDArray[np.float64]
RISKMETRICS_LAMBDA = 0.94


class InsufficientHistory(CryptoderivError):  # noqa: N818
    """Too few observations for the requested method and horizon."""


@dataclass(frozen=True)
class Scenarios:
    """Risk-factor scenarios: ``spot_mult`` and ``vol_shift`` of shape (n, n_bases), columns ``bases``."""

    bases: tuple[str, ...]
    spot_mult: FloatArray
    vol_shift: FloatArray
    dates: tuple[pd.Timestamp, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.spot_mult.shape[0])


@dataclass(frozen=True)
class RiskFigure:
    """One VaR/ES figure (USD, positive = loss)."""

    method: str
    horizon_days: int
    level: float
    var_usd: float
    es_usd: float
    n_scenarios: int
    window_start: pd.Timestamp | None = None
    window_end: pd.Timestamp | None = None
    details: dict[str, Any] = field(default_factory=dict)


def var_es(pnl: Any, level: float) -> tuple[float, float]:
    r"""Empirical VaR and ES of a P&L sample.

    Parameters
    ----------
    pnl : array_like
        P&L per scenario (USD).
    level : float
        Confidence level, e.g. 0.99.

    Returns
    -------
    (float, float)
        VaR = the ``level`` quantile of ``L = -pnl`` (linear interpolation between order statistics) and
        ES = the mean of the losses ``L >= VaR``.

    Notes
    -----
    .. math:: \mathrm{VaR}_\alpha = q_\alpha(L), \qquad \mathrm{ES}_\alpha = E[L \mid L \ge \mathrm{VaR}_\alpha].
    """
    loss = -np.asarray(pnl, dtype=np.float64).ravel()
    loss = loss[np.isfinite(loss)]
    if loss.size == 0:
        raise InsufficientHistory("no finite P&L scenarios")
    v = float(np.quantile(loss, level))
    tail = loss[loss >= v]
    return v, float(tail.mean()) if tail.size else v


def _h_day(frame: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    return frame if horizon_days == 1 else frame.rolling(horizon_days).sum().dropna(how="all")


def hs_scenarios(log_returns: pd.DataFrame, horizon_days: int = 1, vol_changes: pd.DataFrame | None = None,
                 window: int = 500) -> Scenarios:
    """Historical-simulation scenarios from daily log returns.

    Parameters
    ----------
    log_returns : pandas.DataFrame
        Daily log returns, index UTC dates ascending, one column per base coin.
    horizon_days : int, default 1
        Horizon; h-day scenarios are overlapping h-day sums.
    vol_changes : pandas.DataFrame, optional
        Daily changes of an implied-vol index per base, decimal (DVOL points / 100); missing -> 0.
    window : int, default 500
        Number of most recent daily observations used.

    Raises
    ------
    InsufficientHistory
        Fewer than ``max(2 * horizon_days, 20)`` complete observations.
    """
    r = log_returns.dropna().iloc[-window:]
    if len(r) < max(2 * horizon_days, 20):
        raise InsufficientHistory(f"{len(r)} daily returns; need at least {max(2 * horizon_days, 20)}")
    dv = (vol_changes.reindex(index=r.index, columns=r.columns).fillna(0.0) if vol_changes is not None
          else pd.DataFrame(0.0, index=r.index, columns=r.columns))
    rh, dvh = _h_day(r, horizon_days), _h_day(dv, horizon_days)
    return Scenarios(tuple(r.columns), np.exp(rh.to_numpy()), dvh.to_numpy(), tuple(rh.index),
                     {"window_start": r.index[0], "window_end": r.index[-1], "observations": len(r),
                      "vol_changes": bool(vol_changes is not None and vol_changes.notna().any().any())})


def ewma_volatility(log_returns: pd.DataFrame, lam: float = RISKMETRICS_LAMBDA) -> pd.DataFrame:
    r"""EWMA (RiskMetrics) one-day volatility forecasts, decimal per day.

    Row ``t`` holds :math:`\sigma_t` forecast with returns up to ``t-1``:
    :math:`\sigma_t^2 = \lambda\sigma_{t-1}^2 + (1-\lambda) r_{t-1}^2`, seeded with the variance of the first
    30 observations.

    References
    ----------
    J.P. Morgan/Reuters, RiskMetrics Technical Document, 4th ed. (1996), section 5.2.
    """
    r = log_returns.to_numpy(dtype=np.float64)
    var = np.empty_like(r)
    seed = np.nanvar(r[: min(30, len(r))], axis=0)
    var[0] = seed
    for t in range(1, len(r)):
        prev = np.where(np.isfinite(r[t - 1]), r[t - 1] ** 2, var[t - 1])
        var[t] = lam * var[t - 1] + (1 - lam) * prev
    return pd.DataFrame(np.sqrt(var), index=log_returns.index, columns=log_returns.columns)


def fhs_scenarios(log_returns: pd.DataFrame, horizon_days: int = 1, vol_changes: pd.DataFrame | None = None,
                  window: int = 500, lam: float = RISKMETRICS_LAMBDA) -> Scenarios:
    r"""Filtered historical simulation: returns rescaled to today's EWMA volatility.

    Each daily return is standardised by its EWMA forecast and multiplied by the forecast for the next day,
    :math:`r_t^* = r_t\,\sigma_{T+1}/\sigma_t`; h-day scenarios are overlapping h-day sums of the :math:`r^*`.

    References
    ----------
    G. Barone-Adesi, K. Giannopoulos, L. Vosper, "VaR without correlations for portfolios of derivative
    securities", J. Futures Markets 19 (1999) 583-602; J. Hull, A. White, "Incorporating volatility updating
    into the historical simulation method for VaR", J. Risk 1 (1998) 5-19.
    """
    r_all = log_returns.dropna()
    sig = ewma_volatility(r_all, lam)
    last = r_all.iloc[-1].to_numpy()
    sig_next = np.sqrt(lam * sig.iloc[-1].to_numpy() ** 2 + (1 - lam) * last**2)
    scaled = (r_all / sig * sig_next).iloc[30:]
    out = hs_scenarios(scaled, horizon_days, vol_changes, window)
    out.details.update({"ewma_lambda": lam, "sigma_next_daily": dict(zip(r_all.columns, sig_next.tolist(),
                                                                          strict=True))})
    return out


def mc_heston_scenarios(params: Mapping[str, HestonParams], horizon_days: int, bases: Sequence[str],
                        correlation: Any = None, n_paths: int = 20_000, steps_per_day: int = 4,
                        seed: int = 7, drift: Mapping[str, float] | None = None) -> Scenarios:
    r"""Monte Carlo scenarios under Heston: spot and variance paths to the horizon.

    Parameters
    ----------
    params : mapping of str to HestonParams
        Calibrated parameters per base coin.
    horizon_days : int
        Horizon, calendar days.
    bases : sequence of str
        Column order.
    correlation : array_like, optional
        Correlation of the spot Brownian motions across bases (default identity).
    n_paths, steps_per_day, seed : int
        Simulation size and seed.
    drift : mapping of str to float, optional
        Annual drift of spot per base (default 0).

    Returns
    -------
    Scenarios
        ``spot_mult = S_T/S_0``, ``vol_shift = sqrt(v_T) - sqrt(v_0)`` (the smile moves in parallel with the
        model's instantaneous vol).

    Notes
    -----
    Full-truncation Euler (Lord, Koekkoek, van Dijk 2010) on ``ln S`` and ``v``:
    :math:`v_{+} = \max(v, 0)`, :math:`\ln S \mathrel{+}= (\mu - v_+/2)dt + \sqrt{v_+ dt}\,Z_1`,
    :math:`v \mathrel{+}= \kappa(\theta - v_+)dt + \sigma\sqrt{v_+ dt}\,(\rho Z_1 + \sqrt{1-\rho^2}Z_2)`.
    """
    nb = len(bases)
    missing = [b for b in bases if b not in params]
    if missing:
        raise CryptoderivError(f"no Heston parameters for {missing}")
    corr = np.eye(nb) if correlation is None else np.asarray(correlation, dtype=np.float64)
    chol = np.linalg.cholesky(corr)
    rng = np.random.default_rng(seed)
    steps = max(1, horizon_days * steps_per_day)
    dt = horizon_days / 365.0 / steps
    p = {k: np.array([getattr(params[b], k) for b in bases]) for k in ("v0", "kappa", "theta", "sigma", "rho")}
    mu = np.array([float((drift or {}).get(b, 0.0)) for b in bases])
    log_s = np.zeros((n_paths, nb))
    v = np.broadcast_to(p["v0"], (n_paths, nb)).copy()
    for _ in range(steps):
        z1 = rng.standard_normal((n_paths, nb)) @ chol.T
        z2 = rng.standard_normal((n_paths, nb))
        vp = np.maximum(v, 0.0)
        log_s += (mu - 0.5 * vp) * dt + np.sqrt(vp * dt) * z1
        v = v + p["kappa"] * (p["theta"] - vp) * dt + p["sigma"] * np.sqrt(vp * dt) * (
            p["rho"] * z1 + np.sqrt(1 - p["rho"] ** 2) * z2)
    shift = np.sqrt(np.maximum(v, 0.0)) - np.sqrt(p["v0"])
    return Scenarios(tuple(bases), np.exp(log_s), shift, (),
                     {"n_paths": n_paths, "steps_per_day": steps_per_day, "seed": seed,
                      "heston": {b: dict(zip(("v0", "kappa", "theta", "sigma", "rho"),
                                             params[b].to_array().tolist(), strict=True)) for b in bases}})


def scenario_pnl(book: Book, scenarios: Scenarios, horizon_days: int, roll_time: bool = True) -> FloatArray:
    """Full-revaluation P&L matrix (n_scenarios, n_positions), USD.

    ``roll_time`` also rolls the book ``horizon_days`` forward (decay, roll-down, funding), the same in every
    scenario.
    """
    cols = [scenarios.bases.index(b) for b in book.bases]
    mult = scenarios.spot_mult[:, cols]
    shift = scenarios.vol_shift[:, cols]
    base = revalue(book)[0]
    dt = horizon_days / 365.0 if roll_time else 0.0
    return revalue(book, mult, shift, dt) - base


def scenario_var(book: Book, scenarios: Scenarios, method: str, horizon_days: int,
                 levels: Sequence[float] = (0.95, 0.99)) -> list[RiskFigure]:
    """VaR/ES at each level from scenarios, by full revaluation of ``book``."""
    missing = [b for b in book.bases if b not in scenarios.bases]
    if missing:
        raise InsufficientHistory(f"{method}: no scenarios for {missing}")
    total = scenario_pnl(book, scenarios, horizon_days).sum(axis=1)
    out = []
    for level in levels:
        v, e = var_es(total, level)
        out.append(RiskFigure(method, horizon_days, float(level), v, e, len(scenarios),
                              scenarios.details.get("window_start"), scenarios.details.get("window_end"),
                              {k: v for k, v in scenarios.details.items() if k not in ("window_start", "window_end")}))
    return out


def parametric_var(delta_usd: Mapping[str, float], log_returns: pd.DataFrame, horizon_days: int,
                   levels: Sequence[float] = (0.95, 0.99), window: int = 500) -> list[RiskFigure]:
    r"""Delta-normal (Gaussian) VaR/ES: a labelled comparison only (no gamma, no vega, no fat tails).

    .. math:: \sigma_P = \sqrt{h\,\delta^\top\Sigma\,\delta}, \quad \mathrm{VaR} = z_\alpha\sigma_P, \quad
              \mathrm{ES} = \sigma_P\,\phi(z_\alpha)/(1-\alpha)

    with :math:`\delta` the USD deltas per base and :math:`\Sigma` the sample covariance of daily log returns.
    """
    r = log_returns.dropna().iloc[-window:]
    bases = [b for b in delta_usd if b in r.columns]
    if len(r) < 20 or len(bases) != len(delta_usd):
        raise InsufficientHistory(f"parametric: {len(r)} returns for {sorted(delta_usd)}")
    d = np.array([delta_usd[b] for b in bases])
    cov = np.atleast_2d(np.cov(r[bases].to_numpy().T))
    sigma = float(np.sqrt(max(d @ cov @ d, 0.0) * horizon_days))
    out = []
    for level in levels:
        z = float(stats.norm.ppf(level))
        out.append(RiskFigure("parametric", horizon_days, float(level), z * sigma,
                              sigma * float(stats.norm.pdf(z)) / (1 - level), len(r), r.index[0], r.index[-1],
                              {"comparison": "delta-normal Gaussian, labelled comparison only"}))
    return out
