r"""Expected return per position over a horizon: decomposition, P&L distribution under P and Q, payoff data.

For a position with USD delta :math:`\Delta_\$`, coin gamma :math:`\Gamma` (d2V/dS2), implied vol
:math:`\sigma_i`, forecast realised vol :math:`\sigma_f`, forecast drift :math:`\mu` (annual) and horizon
:math:`h` (years):

* **carry** - perpetual funding accrued at today's rate (longs pay a positive rate) or a dated future's basis
  roll-down (the forward converging to spot at a constant annual basis), by revaluation;
* **theta** - the options' value change from time alone over ``h`` (revaluation, market unchanged);
* **convexity** - :math:`\tfrac12\Gamma S^2\sigma_i^2 h`: what gamma earns if realised vol equals implied (it
  offsets theta in Black's model);
* **VRP** - :math:`\tfrac12\Gamma S^2(\sigma_f^2-\sigma_i^2)h`: the volatility risk premium, what a
  (delta-hedged) option earns or loses when realised vol comes in at the forecast instead of the implied;
* **drift** - :math:`\Delta_\$\,\mu\,h`.

``expected_pnl`` is the mean of a Monte Carlo P&L distribution under the physical measure P (log-normal
spot at :math:`\sigma_f` and drift :math:`\mu`, correlated across bases, smile unchanged, book rolled
``h`` forward, full revaluation); ``residual`` = expected - sum of the components (higher-order terms).
Under the risk-neutral measure Q the forward is a martingale at the implied vol (the book's average option
IV per base).  ``prob_profit`` = share of simulated P&L above 0.

References
----------
P. Carr, L. Wu, "Variance risk premiums", Review of Financial Studies 22 (2009) 1311-1341 (VRP);
E. Derman, "Trading volatility as an asset class" (1999) / Bergomi, Stochastic Volatility Modeling (2016)
ch. 1 (P&L of a delta-hedged option, :math:`\tfrac12\Gamma S^2(\sigma_r^2-\sigma_i^2)dt`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cryptoderiv.portfolio.greeks import portfolio_greeks
from cryptoderiv.portfolio.valuation import Book, revalue

__all__ = ["BaseForecast", "expected_returns", "payoff_curves"]

PAYOFF_POINTS = 41


@dataclass(frozen=True, slots=True)
class BaseForecast:
    """Forecast for one underlying: realised vol and drift (annual decimals) and where they came from."""

    vol: float
    drift: float = 0.0
    source: str = "realised_ewma"


def _implied_by_base(book: Book, forecasts: Mapping[str, BaseForecast]) -> np.ndarray:
    out = np.empty(len(book.bases))
    for j, b in enumerate(book.bases):
        mask = (book.base_idx == j) & (book.kind == 3)
        out[j] = float(book.iv0[mask].mean()) if mask.any() else forecasts[b].vol
    return out


def _simulate(book: Book, vol: np.ndarray, drift: np.ndarray, corr: np.ndarray, h: float, n: int,
              rng: np.random.Generator) -> np.ndarray:
    half = rng.standard_normal(((n + 1) // 2, len(book.bases))) @ np.linalg.cholesky(corr).T
    z = np.concatenate([half, -half])  # antithetic pairs: halves the noise of the means
    log_m = (drift - 0.5 * vol**2) * h + vol * np.sqrt(h) * z
    return revalue(book, np.exp(log_m), 0.0, h) - revalue(book)[0]


def expected_returns(book: Book, forecasts: Mapping[str, BaseForecast], horizon_days: int = 7,
                     correlation: np.ndarray | None = None, n_paths: int = 20_000, seed: int = 11) -> pd.DataFrame:
    """Expected-return table per position and ``TOTAL`` (layout of the ``expected_returns`` table).

    Parameters
    ----------
    book : Book
        Portfolio on its snapshot.
    forecasts : mapping of str to BaseForecast
        Per base coin.
    horizon_days : int, default 7
        Horizon, calendar days.
    correlation : ndarray, optional
        Correlation of daily log returns across ``book.bases`` (default identity).
    n_paths, seed : int
        Monte Carlo size and seed.
    """
    h = horizon_days / 365.0
    corr = np.eye(len(book.bases)) if correlation is None else np.asarray(correlation, dtype=np.float64)
    greeks = portfolio_greeks(book).iloc[: len(book)]
    sig_f = np.array([forecasts[b].vol for b in book.bases])
    mu = np.array([forecasts[b].drift for b in book.bases])
    sig_i = _implied_by_base(book, forecasts)
    v0 = revalue(book)[0]
    rolled = revalue(book, 1.0, 0.0, h)[0] - v0
    rolled_nofund = revalue(book, 1.0, 0.0, h, include_funding=False)[0] - v0
    is_opt = book.kind == 3
    carry = np.where(book.kind == 1, rolled - rolled_nofund, np.where(book.kind == 2, rolled_nofund, 0.0))
    theta = np.where(is_opt, rolled_nofund, 0.0)
    s = book.spot_of_positions()
    dollar_gamma = 0.5 * greeks["gamma_coin"].to_numpy() * s**2
    iv_pos = np.where(is_opt, book.iv0, sig_i[book.base_idx])
    convexity = np.where(is_opt, dollar_gamma * iv_pos**2 * h, 0.0)
    vrp = np.where(is_opt, dollar_gamma * (sig_f[book.base_idx] ** 2 - iv_pos**2) * h, 0.0)
    drift = greeks["delta_usd"].to_numpy() * mu[book.base_idx] * h
    rng = np.random.default_rng(seed)
    pnl_p = _simulate(book, sig_f, mu, corr, h, n_paths, rng)
    pnl_q = _simulate(book, sig_i, np.zeros(len(book.bases)), corr, h, n_paths, rng)
    frame = pd.DataFrame({
        "position_id": list(book.ids), "horizon_days": horizon_days, "carry_usd": carry, "theta_usd": theta,
        "convexity_usd": convexity, "vrp_usd": vrp, "drift_usd": drift, "expected_pnl_usd": pnl_p.mean(axis=0),
        "std_p_usd": pnl_p.std(axis=0), "std_q_usd": pnl_q.std(axis=0), "mean_q_usd": pnl_q.mean(axis=0),
        "prob_profit_p": (pnl_p > 0).mean(axis=0), "prob_profit_q": (pnl_q > 0).mean(axis=0),
        "implied_vol": iv_pos, "forecast_vol": sig_f[book.base_idx], "forecast_drift": mu[book.base_idx],
        "vol_source": [forecasts[book.bases[j]].source for j in book.base_idx]})
    tp, tq = pnl_p.sum(axis=1), pnl_q.sum(axis=1)
    sums = {c: float(frame[c].sum()) for c in ("carry_usd", "theta_usd", "convexity_usd", "vrp_usd", "drift_usd")}
    total = {"position_id": "TOTAL", "horizon_days": horizon_days, **sums, "expected_pnl_usd": float(tp.mean()),
             "std_p_usd": float(tp.std()), "std_q_usd": float(tq.std()), "mean_q_usd": float(tq.mean()),
             "prob_profit_p": float((tp > 0).mean()), "prob_profit_q": float((tq > 0).mean()),
             "implied_vol": np.nan, "forecast_vol": np.nan, "forecast_drift": np.nan,
             "vol_source": ",".join(sorted({f.source for f in forecasts.values()}))}
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    frame["residual_usd"] = frame["expected_pnl_usd"] - frame[list(sums)].sum(axis=1)
    # A perfectly flat position (e.g. spot) has std 0 and P(profit) 0: keep the numbers as they are.
    return frame


def _unrealised_now(book: Book, v0: np.ndarray) -> np.ndarray:
    """P&L since entry at the snapshot, USD (entry prices from the book)."""
    s = book.spot_of_positions()
    out = np.zeros(len(book))
    for i in range(len(book)):
        k, q, e = book.kind[i], book.q[i], book.entry_usd[i]
        if k == 0:
            out[i] = q * (s[i] - e)
        elif k in (1, 2) and book.inverse[i]:
            out[i] = s[i] * q * (1.0 / e - 1.0 / book.forward0[i])
        elif k in (1, 2):
            out[i] = q * (book.forward0[i] - e)
        else:
            out[i] = v0[i] - q * e
    return out


def payoff_curves(book: Book, horizon_days: int = 7, lo: float = 0.5, hi: float = 1.5,
                  points: int = PAYOFF_POINTS) -> pd.DataFrame:
    """Payoff-diagram data: P&L since entry (USD) against the underlying's spot, at expiry and at the horizon.

    Per position: ``horizon`` curve (book rolled ``horizon_days``, smile unchanged) for every position,
    ``expiry`` curve for dated positions (rolled to their own expiry: intrinsic value / converged future).
    Per base, ``TOTAL:<BASE>``: the sum over that base's positions (``expiry`` = at the last option expiry on
    the base).  Spot grid ``lo .. hi`` times today's spot.
    """
    grid = np.linspace(lo, hi, points)
    v0 = revalue(book)[0]
    unreal = _unrealised_now(book, v0)
    rows = []
    for j, b in enumerate(book.bases):
        mult = np.ones((points, len(book.bases)))
        mult[:, j] = grid
        mine = np.flatnonzero(book.base_idx == j)
        dated = mine[(book.kind[mine] == 2) | (book.kind[mine] == 3)]
        last_expiry = float(book.tau0[dated].max()) if dated.size else horizon_days / 365.0
        curves = {"horizon": revalue(book, mult, 0.0, horizon_days / 365.0)}
        for curve, values in curves.items():
            pnl = values - v0 + unreal
            for i in mine:
                rows += [(book.ids[i], curve, p, book.spot0[j] * grid[p], pnl[p, i]) for p in range(points)]
            rows += [(f"TOTAL:{b}", curve, p, book.spot0[j] * grid[p], pnl[p, mine].sum()) for p in range(points)]
        for i in dated:
            pnl = revalue(book, mult, 0.0, float(book.tau0[i]))[:, i] - v0[i] + unreal[i]
            rows += [(book.ids[i], "expiry", p, book.spot0[j] * grid[p], pnl[p]) for p in range(points)]
        total_exp = (revalue(book, mult, 0.0, last_expiry) - v0 + unreal)[:, mine].sum(axis=1)
        rows += [(f"TOTAL:{b}", "expiry", p, book.spot0[j] * grid[p], total_exp[p]) for p in range(points)]
    return pd.DataFrame(rows, columns=["position_id", "curve", "point", "spot_usd", "pnl_usd"])
