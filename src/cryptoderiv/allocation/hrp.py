r"""Hierarchical risk parity (Lopez de Prado 2016), long-only, fully invested.

1. **Tree clustering.** Correlation distance :math:`d_{ij} = \sqrt{(1 - \rho_{ij})/2}`; the distance between
   the columns of ``d``, :math:`\tilde d_{ij} = \lVert d_{\cdot i} - d_{\cdot j} \rVert_2`; single linkage
   on :math:`\tilde d`.
2. **Quasi-diagonalisation.** Order the assets as the leaves of the tree, depth first, left child first
   (:func:`scipy.cluster.hierarchy.leaves_list`, the order the paper's ``getQuasiDiag`` produces).
3. **Recursive bisection.** Starting from weights 1, split every ordered cluster into two halves (by count);
   for each half the inverse-variance portfolio :math:`v \propto 1/\mathrm{diag}(V)` gives the cluster
   variance :math:`\tilde V = v^\top V v`; with :math:`\alpha = 1 - \tilde V_1 / (\tilde V_1 + \tilde V_2)`
   the first half's weights are multiplied by :math:`\alpha` and the second's by :math:`1-\alpha`.

Weight bounds are not part of HRP; clip and renormalise afterwards if needed.

References
----------
M. Lopez de Prado, "Building diversified portfolios that outperform out of sample", J. Portfolio Management
42(4) (2016) 59-69, section 4 (stages 1-3) and appendix (snippets 1-4).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import pdist

from cryptoderiv.allocation.constraints import FloatArray, as_covariance

__all__ = ["hrp_order", "hrp_weights"]


def _correlation(cov: FloatArray) -> FloatArray:
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    return np.asarray(np.clip(corr, -1.0, 1.0), dtype=np.float64)


def hrp_order(cov: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Quasi-diagonal order of the assets (stages 1 and 2)."""
    c = as_covariance(cov)
    if c.shape[0] == 1:
        return np.zeros(1, dtype=np.intp)
    dist = np.sqrt(np.clip(0.5 * (1.0 - _correlation(c)), 0.0, None))
    link = linkage(pdist(dist, metric="euclidean"), method="single")
    return np.asarray(leaves_list(link), dtype=np.intp)


def _cluster_variance(cov: FloatArray, items: npt.NDArray[np.intp]) -> float:
    sub = cov[np.ix_(items, items)]
    ivp = 1.0 / np.diag(sub)
    ivp /= ivp.sum()
    return float(ivp @ sub @ ivp)


def hrp_weights(cov: npt.ArrayLike, order: npt.ArrayLike | None = None) -> FloatArray:
    """HRP weights (summing to one) for the covariance ``cov``.

    Parameters
    ----------
    cov : array_like, shape (n, n)
        Covariance of returns (positive definite).
    order : array_like of int, optional
        A given asset order instead of the tree's (stage 3 only).

    Returns
    -------
    numpy.ndarray
        Weights in the original asset order.
    """
    c = as_covariance(cov)
    sort = hrp_order(c) if order is None else np.asarray(order, dtype=np.intp)
    w = np.ones(c.shape[0])
    clusters = [sort]
    while clusters:
        nxt: list[npt.NDArray[np.intp]] = []
        for items in clusters:
            if items.shape[0] <= 1:
                continue
            half = items.shape[0] // 2
            left, right = items[:half], items[half:]
            v_left = _cluster_variance(c, left)
            v_right = _cluster_variance(c, right)
            alpha = 1.0 - v_left / (v_left + v_right)
            w[left] *= alpha
            w[right] *= 1.0 - alpha
            nxt.extend((left, right))
        clusters = nxt
    return w
