r"""Minimum conditional value-at-risk as a linear program (Rockafellar and Uryasev 2000).

With scenario returns :math:`r_s` (rows of a matrix, ``S`` equally likely scenarios), the loss of weights
:math:`w` is :math:`L_s = -r_s^\top w` and

.. math::

    \mathrm{CVaR}_\beta(w) = \min_\alpha \; \alpha + \frac{1}{(1-\beta) S} \sum_s (L_s - \alpha)^+ .

Introducing :math:`u_s \ge (L_s - \alpha)^+` turns the minimisation over :math:`(w, \alpha)` into the LP

.. math::

    \min_{w,\alpha,u} \alpha + \frac{1}{(1-\beta)S}\sum_s u_s \quad \text{s.t.} \quad
    u_s \ge -r_s^\top w - \alpha, \; u_s \ge 0, \; \mathbf 1^\top w = b, \; l \le w \le u,
    \; [\bar r^\top w \ge \text{target}],

solved with HiGHS (``scipy.optimize.linprog``). At the optimum :math:`\alpha` is a VaR of the portfolio and
the objective its CVaR.

References
----------
R. T. Rockafellar, S. Uryasev, "Optimization of conditional value-at-risk", J. Risk 2(3) (2000) 21-41,
eqs. (9)-(11) and (17).
C. Acerbi, D. Tasche, "On the coherence of expected shortfall", J. Banking & Finance 26 (2002) 1487-1503
(the discrete tail mean with a fractional atom, :func:`empirical_cvar`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog

from cryptoderiv.allocation.constraints import AllocationError, FloatArray, WeightConstraints, as_vector

__all__ = ["MinCVaRResult", "empirical_cvar", "min_cvar"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MinCVaRResult:
    """Optimal weights, the LP objective (CVaR, decimal loss per horizon), the VaR ``alpha``, expected return."""

    weights: FloatArray
    cvar: float
    var: float
    expected_return: float


def empirical_cvar(scenario_returns: npt.ArrayLike, weights: npt.ArrayLike, beta: float = 0.95) -> float:
    r"""CVaR of a portfolio over equally likely scenarios: the mean of the worst ``(1-beta)`` of losses.

    Sorting the losses descending, the tail of mass :math:`(1-\beta)` takes the ``k = floor((1-beta) S)``
    largest ones fully and the next one with the remaining fraction (Acerbi-Tasche).

    Parameters
    ----------
    scenario_returns : array_like, shape (S, n)
        Returns per scenario and asset (decimals).
    weights : array_like, shape (n,)
    beta : float
        Confidence level in (0, 1), e.g. 0.95.

    Returns
    -------
    float
        Expected loss in the tail (decimal of capital; positive = loss).
    """
    r = np.asarray(scenario_returns, dtype=np.float64)
    w = as_vector("weights", weights, r.shape[1] if r.ndim == 2 else None)
    if not 0.0 < beta < 1.0:
        raise AllocationError(f"beta must be in (0, 1), got {beta}")
    losses = np.sort(-(r @ w))[::-1]
    s = losses.shape[0]
    tail = (1.0 - beta) * s
    k = math.floor(tail + 1e-9)
    frac = tail - k
    total = float(np.sum(losses[:k]))
    if frac > 1e-9 and k < s:
        total += frac * float(losses[k])
    return total / tail


def min_cvar(
    scenario_returns: npt.ArrayLike,
    beta: float = 0.95,
    constraints: WeightConstraints | None = None,
    min_expected_return: float | None = None,
    expected_returns: npt.ArrayLike | None = None,
) -> MinCVaRResult:
    """Weights of minimum CVaR over historical (or simulated) scenarios.

    Parameters
    ----------
    scenario_returns : array_like, shape (S, n)
        Scenario returns (decimal per horizon), equally likely.
    beta : float
        Confidence level, e.g. 0.95.
    constraints : WeightConstraints, optional
        Budget and bounds (default long-only, fully invested).
    min_expected_return : float, optional
        Require ``mu'w >= min_expected_return``.
    expected_returns : array_like, optional
        ``mu`` for that constraint (default: the scenario mean), e.g. from the forecasts.

    Returns
    -------
    MinCVaRResult

    Raises
    ------
    AllocationError
        Bad inputs, or the LP is infeasible (message from HiGHS).
    """
    r = np.asarray(scenario_returns, dtype=np.float64)
    if r.ndim != 2 or r.shape[0] < 2 or not np.all(np.isfinite(r)):
        raise AllocationError(f"scenario_returns must be a finite (S, n) matrix with S >= 2, got {r.shape}")
    if not 0.0 < beta < 1.0:
        raise AllocationError(f"beta must be in (0, 1), got {beta}")
    s, n = r.shape
    cons = constraints or WeightConstraints()
    cons.check_feasible(n)
    mu = r.mean(axis=0) if expected_returns is None else as_vector("expected_returns", expected_returns, n)
    # variables x = [w (n), alpha (1), u (S)]
    cost = np.concatenate((np.zeros(n), [1.0], np.full(s, 1.0 / ((1.0 - beta) * s))))
    # -r_s w - alpha - u_s <= 0
    a_ub = sparse.hstack([sparse.csr_matrix(-r), sparse.csr_matrix(-np.ones((s, 1))), -sparse.identity(s)])
    b_ub = np.zeros(s)
    if min_expected_return is not None:
        a_ub = sparse.vstack([a_ub, sparse.csr_matrix(np.concatenate((-mu, [0.0], np.zeros(s))))])
        b_ub = np.concatenate((b_ub, [-float(min_expected_return)]))
    a_eq = sparse.csr_matrix(np.concatenate((np.ones(n), [0.0], np.zeros(s)))[None, :])
    bounds = cons.bounds(n) + [(None, None)] + [(0.0, None)] * s
    res = linprog(cost, A_ub=a_ub.tocsr(), b_ub=b_ub, A_eq=a_eq, b_eq=[cons.budget], bounds=bounds,
                  method="highs")
    if res.status != 0:
        raise AllocationError(f"minimum-CVaR LP failed: {res.message}")
    x = np.asarray(res.x, dtype=np.float64)
    logger.debug("min-CVaR LP: %d scenarios, %d assets, objective %.6g", s, n, res.fun)
    return MinCVaRResult(weights=x[:n], cvar=float(res.fun), var=float(x[n]), expected_return=float(mu @ x[:n]))
