r"""Mean-variance optimisation (Markowitz 1952) with a budget and weight bounds, long/short.

Utility form: maximise :math:`\mu^\top w - \tfrac{\lambda}{2} w^\top \Sigma w` subject to
:math:`\mathbf 1^\top w = b` and :math:`l \le w \le u`. With only the budget it has the closed form

.. math::

    w^* = \frac1\lambda \Sigma^{-1}(\mu - \gamma \mathbf 1), \qquad
    \gamma = \frac{\mathbf 1^\top \Sigma^{-1}\mu - \lambda b}{\mathbf 1^\top \Sigma^{-1} \mathbf 1},

used directly; with bounds the quadratic program is solved by SLSQP (scipy) with exact gradients. The
frontier form :func:`min_variance_for_return` minimises :math:`w^\top\Sigma w` at a target
:math:`\mu^\top w`.

Units: ``mu`` and ``cov`` over the same horizon (e.g. daily decimals, or both annualised on 365 days).

References
----------
H. Markowitz, "Portfolio selection", J. Finance 7(1) (1952) 77-91.
R. C. Merton, "An analytic derivation of the efficient portfolio frontier", J. Financial and Quantitative
Analysis 7(4) (1972) 1851-1872 (the closed forms).
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from cryptoderiv.allocation.constraints import (
    AllocationError,
    FloatArray,
    WeightConstraints,
    as_covariance,
    as_vector,
)

__all__ = ["mean_variance", "min_variance_for_return"]

logger = logging.getLogger(__name__)


def _solve_qp(q: FloatArray, c: FloatArray, a_eq: FloatArray, b_eq: FloatArray,
              constraints: WeightConstraints, start: FloatArray) -> FloatArray:
    """Minimise ``0.5 w'Qw - c'w`` s.t. ``A_eq w = b_eq`` and the bounds (SLSQP, exact gradients)."""
    n = q.shape[0]
    cons = [{"type": "eq", "fun": (lambda w, a=a_eq[k], b=b_eq[k]: float(a @ w - b)),
             "jac": (lambda w, a=a_eq[k]: a)} for k in range(a_eq.shape[0])]
    lo = -np.inf if constraints.lower is None else constraints.lower
    hi = np.inf if constraints.upper is None else constraints.upper
    x0 = np.clip(start, lo, hi)
    res = minimize(lambda w: 0.5 * w @ q @ w - c @ w, x0, jac=lambda w: q @ w - c, method="SLSQP",
                   bounds=constraints.bounds(n), constraints=cons,
                   options={"ftol": 1e-15, "maxiter": 2000})
    w = np.asarray(res.x, dtype=np.float64)
    if not res.success or np.max(np.abs(a_eq @ w - b_eq)) > 1e-7:
        raise AllocationError(f"quadratic program failed: {res.message} (infeasible bounds or targets?)")
    logger.debug("SLSQP: %d iterations, objective %.6g", res.nit, res.fun)
    return w


def mean_variance(mu: npt.ArrayLike, cov: npt.ArrayLike, risk_aversion: float = 1.0,
                  constraints: WeightConstraints | None = None) -> FloatArray:
    """Weights maximising ``mu'w - risk_aversion / 2 * w'cov w`` under the budget and bounds.

    Parameters
    ----------
    mu : array_like, shape (n,)
        Expected returns per asset (decimal per horizon), e.g. from the forecasts.
    cov : array_like, shape (n, n)
        Covariance of returns over the same horizon, positive definite.
    risk_aversion : float
        :math:`\\lambda > 0`.
    constraints : WeightConstraints, optional
        Budget and bounds (default long-only, fully invested). ``lower=upper=None`` gives the closed form.

    Returns
    -------
    numpy.ndarray
        Weights (decimals of capital; negative = short).

    Raises
    ------
    AllocationError
        Invalid inputs, infeasible constraints, or the solver failed.
    """
    c = as_covariance(cov)
    m = as_vector("mu", mu, c.shape[0])
    if not (np.isfinite(risk_aversion) and risk_aversion > 0):
        raise AllocationError(f"risk_aversion must be > 0, got {risk_aversion!r}")
    cons = constraints or WeightConstraints()
    cons.check_feasible(m.shape[0])
    ones = np.ones_like(m)
    inv_mu = np.linalg.solve(c, m)
    inv_one = np.linalg.solve(c, ones)
    gamma = (ones @ inv_mu - risk_aversion * cons.budget) / (ones @ inv_one)
    closed = np.asarray((inv_mu - gamma * inv_one) / risk_aversion, dtype=np.float64)
    if cons.unbounded:
        return closed
    return _solve_qp(risk_aversion * c, m, ones[None, :], np.array([cons.budget]), cons, closed)


def min_variance_for_return(mu: npt.ArrayLike, cov: npt.ArrayLike, target_return: float | None,
                            constraints: WeightConstraints | None = None) -> FloatArray:
    """Minimum-variance weights with ``mu'w = target_return`` (``None``: the global minimum variance).

    Parameters and errors as in :func:`mean_variance`.
    """
    c = as_covariance(cov)
    m = as_vector("mu", mu, c.shape[0])
    cons = constraints or WeightConstraints()
    cons.check_feasible(m.shape[0])
    ones = np.ones_like(m)
    if target_return is None:
        a_eq = ones[None, :]
        b_eq = np.array([cons.budget])
    else:
        a_eq = np.vstack((ones, m))
        b_eq = np.array([cons.budget, float(target_return)])
    # unconstrained closed form: w = C^-1 A' (A C^-1 A')^-1 b
    inv_a = np.linalg.solve(c, a_eq.T)
    gram = a_eq @ inv_a
    try:
        closed = np.asarray(inv_a @ np.linalg.solve(gram, b_eq), dtype=np.float64)
    except np.linalg.LinAlgError as exc:
        raise AllocationError("all expected returns are equal: a return target cannot be set") from exc
    if cons.unbounded:
        return closed
    return _solve_qp(2.0 * c, np.zeros_like(m), a_eq, b_eq, cons, closed)
