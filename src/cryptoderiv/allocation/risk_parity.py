r"""Risk parity (equal risk contribution, or any risk budget), long-only, fully invested.

The risk contribution of asset ``i`` to the volatility :math:`\sigma(w) = \sqrt{w^\top \Sigma w}` is
:math:`RC_i = w_i (\Sigma w)_i / \sigma(w)`, and :math:`\sum_i RC_i = \sigma(w)` (Euler). Risk parity asks
:math:`RC_i = b_i \sigma(w)` for budgets :math:`b_i > 0` summing to one.

Solved through the strictly convex problem of Spinu (2013)

.. math:: \min_{y > 0} \tfrac12 y^\top \Sigma y - \sum_i b_i \ln y_i,

whose first-order condition :math:`(\Sigma y)_i = b_i / y_i` gives :math:`y_i (\Sigma y)_i = b_i`; then
:math:`w = y / \mathbf 1^\top y`. Newton's method with a step cut that keeps ``y > 0`` converges
quadratically. With a diagonal covariance, ERC weights are inverse-volatility weights.

References
----------
S. Maillard, T. Roncalli, J. Teiletche, "The properties of equally weighted risk contribution portfolios",
J. Portfolio Management 36(4) (2010) 60-70.
F. Spinu, "An algorithm for computing risk parity weights", SSRN 2297383 (2013).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cryptoderiv.allocation.constraints import AllocationError, FloatArray, as_covariance, as_vector

__all__ = ["risk_contributions", "risk_parity"]


def risk_contributions(weights: npt.ArrayLike, cov: npt.ArrayLike) -> FloatArray:
    """Risk contributions ``w_i (cov w)_i / sigma(w)`` (they sum to the portfolio volatility)."""
    c = as_covariance(cov)
    w = as_vector("weights", weights, c.shape[0])
    marginal = c @ w
    return np.asarray(w * marginal / np.sqrt(w @ marginal), dtype=np.float64)


def risk_parity(cov: npt.ArrayLike, budgets: npt.ArrayLike | None = None, tol: float = 1e-14,
                max_iter: int = 100) -> FloatArray:
    """Long-only, fully invested weights whose risk contributions are proportional to ``budgets``.

    Parameters
    ----------
    cov : array_like, shape (n, n)
        Covariance matrix (positive definite).
    budgets : array_like, optional
        Risk budgets ``b_i > 0`` (normalised to sum to 1); default equal (ERC).
    tol : float
        Stop when the Newton decrement falls below it.
    max_iter : int
        Newton iterations allowed.

    Returns
    -------
    numpy.ndarray
        Weights summing to one.

    Raises
    ------
    AllocationError
        Bad inputs or no convergence.
    """
    c = as_covariance(cov)
    n = c.shape[0]
    b = np.full(n, 1.0 / n) if budgets is None else as_vector("budgets", budgets, n)
    if np.any(b <= 0):
        raise AllocationError(f"budgets must be > 0; budgets[{int(np.argmin(b))}] = {b.min()}")
    b = b / b.sum()
    # start at inverse-vol weights scaled to the right size
    y = 1.0 / np.sqrt(np.diag(c))
    y *= np.sqrt(1.0 / (y @ c @ y))
    for _ in range(max_iter):
        grad = c @ y - b / y
        hess = c + np.diag(b / y**2)
        step = np.linalg.solve(hess, grad)
        decrement = float(grad @ step)
        # keep y > 0: cut the step so no coordinate drops below a tenth of its value
        ratio = np.where(step > 0, 0.9 * y / np.where(step > 0, step, 1.0), np.inf)
        t = min(1.0, float(np.min(ratio)))
        y = y - t * step
        if decrement < tol and t == 1.0:
            return np.asarray(y / y.sum(), dtype=np.float64)
    raise AllocationError(f"risk parity did not converge in {max_iter} Newton steps")
