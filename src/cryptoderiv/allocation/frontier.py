"""The efficient frontier: minimum variance (and the CVaR of the same weights) along a grid of target returns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import linprog

from cryptoderiv.allocation.constraints import (
    AllocationError,
    WeightConstraints,
    as_covariance,
    as_vector,
)
from cryptoderiv.allocation.cvar import empirical_cvar
from cryptoderiv.allocation.mean_variance import min_variance_for_return

__all__ = ["efficient_frontier"]


def _max_return(mu: npt.NDArray[np.float64], cons: WeightConstraints) -> float:
    res = linprog(-mu, A_eq=np.ones((1, mu.shape[0])), b_eq=[cons.budget], bounds=cons.bounds(mu.shape[0]),
                  method="highs")
    if res.status == 3:
        raise AllocationError("expected return is unbounded under these constraints: give target_returns")
    if res.status != 0:
        raise AllocationError(f"maximum-return LP failed: {res.message}")
    return float(-res.fun)


def efficient_frontier(
    mu: npt.ArrayLike,
    cov: npt.ArrayLike,
    constraints: WeightConstraints | None = None,
    n_points: int = 20,
    target_returns: Sequence[float] | None = None,
    asset_names: Sequence[str] | None = None,
    scenario_returns: npt.ArrayLike | None = None,
    beta: float = 0.95,
) -> pd.DataFrame:
    """Frontier points from the global minimum-variance portfolio to the maximum attainable return.

    Parameters
    ----------
    mu, cov : array_like
        Expected returns and covariance over one horizon (e.g. daily decimals).
    constraints : WeightConstraints, optional
        Budget and bounds (default long-only, fully invested). Without bounds pass ``target_returns``.
    n_points : int
        Grid size when ``target_returns`` is not given.
    target_returns : sequence of float, optional
        Explicit target returns.
    asset_names : sequence of str, optional
        Column names of the weights (default ``w0..``).
    scenario_returns : array_like (S, n), optional
        When given, the ``cvar`` column holds the empirical CVaR at ``beta`` of each frontier portfolio.

    Returns
    -------
    pandas.DataFrame
        Columns ``target_return``, ``expected_return``, ``volatility``, ``sharpe`` (zero rate, per horizon),
        optionally ``cvar``, then one weight column per asset.
    """
    c = as_covariance(cov)
    m = as_vector("mu", mu, c.shape[0])
    cons = constraints or WeightConstraints()
    names = list(asset_names) if asset_names is not None else [f"w{i}" for i in range(m.shape[0])]
    if len(names) != m.shape[0]:
        raise AllocationError(f"{len(names)} asset names for {m.shape[0]} assets")
    if target_returns is None:
        w_min = min_variance_for_return(m, c, None, cons)
        lo = float(m @ w_min)
        hi = _max_return(m, cons)
        targets = np.linspace(lo, hi, max(n_points, 2))
    else:
        targets = np.asarray(target_returns, dtype=np.float64)
    rows = []
    for target in targets:
        w = min_variance_for_return(m, c, float(target), cons)
        ret = float(m @ w)
        vol = float(np.sqrt(w @ c @ w))
        row: dict[str, float] = {"target_return": float(target), "expected_return": ret, "volatility": vol,
                                 "sharpe": ret / vol if vol > 0 else float("nan")}
        if scenario_returns is not None:
            row["cvar"] = empirical_cvar(scenario_returns, w, beta)
        row.update(dict(zip(names, w.tolist(), strict=True)))
        rows.append(row)
    return pd.DataFrame(rows)
