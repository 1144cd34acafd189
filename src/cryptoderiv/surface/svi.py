"""Raw SVI smile per expiry: parameters, total variance, Gatheral's butterfly function, robust fit.

Conventions: ``k = ln(K / F)`` is the log forward moneyness, ``w(k) = sigma_imp(k)**2 * t`` the total
implied variance of one expiry (t in ACT/365 years).

The fit is the quasi-explicit calibration of Zeliade (2009): for fixed ``(m, sigma)`` raw SVI is linear
in ``(a, d, c) = (a, rho * b * sigma, b * sigma)`` on ``y = (k - m) / sigma``::

    w = a + d * y + c * sqrt(y**2 + 1)

so the inner weighted least-squares problem is a 3-variable convex quadratic programme with linear
constraints. It is solved exactly by enumerating active sets (KKT systems), vectorised over many
``(m, sigma)`` candidates at once. The outer 2-dimensional search over ``(m, sigma)`` is a coarse grid,
zooming grids around its best local minima and a vectorised pattern search.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from cryptoderiv.errors import CryptoderivError

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

# Lee (2004) moment bound on the wings of total variance: b * (1 + |rho|) <= 4.
_WING_SLOPE_MAX: Final = 4.0


class SVIError(CryptoderivError):
    """Invalid SVI parameters or a fit that cannot be made (too few points, bad input)."""


@dataclass(frozen=True, slots=True)
class SVIParams:
    """Raw SVI parameters of one expiry (Gatheral 2004), in total implied variance.

    Parameters
    ----------
    a : float
        Vertical level of total variance.
    b : float
        Wing slope scale, ``b >= 0``.
    rho : float
        Skew / rotation, ``-1 < rho < 1``.
    m : float
        Horizontal shift in log forward moneyness.
    sigma : float
        ATM curvature scale, ``sigma > 0``.

    Notes
    -----
    ``w(k) = a + b * (rho * (k - m) + sqrt((k - m)**2 + sigma**2))``. Validation requires the minimum
    of ``w``, ``a + b * sigma * sqrt(1 - rho**2)``, to be non-negative (up to 1e-12) and the wings to
    satisfy Lee's bound ``b * (1 + |rho|) <= 4`` (up to 1e-9).

    References
    ----------
    J. Gatheral, "A parsimonious arbitrage-free implied volatility parameterization with application to
    the valuation of volatility derivatives", Global Derivatives, 2004.
    R. Lee, "The moment formula for implied volatility at extreme strikes", Math. Finance 14, 2004.
    """

    a: float
    b: float
    rho: float
    m: float
    sigma: float

    def __post_init__(self) -> None:
        for name in ("a", "b", "rho", "m", "sigma"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise SVIError(f"SVI parameter {name} must be finite, got {value!r}")
        if self.b < 0.0:
            raise SVIError(f"SVI b must be >= 0, got {self.b}")
        if not -1.0 < self.rho < 1.0:
            raise SVIError(f"SVI rho must lie in (-1, 1), got {self.rho}")
        if self.sigma <= 0.0:
            raise SVIError(f"SVI sigma must be > 0, got {self.sigma}")
        if self.min_total_variance < -1e-12:
            raise SVIError(f"SVI total variance goes negative (min {self.min_total_variance:.3g})")
        if self.b * (1.0 + abs(self.rho)) > _WING_SLOPE_MAX + 1e-9:
            raise SVIError(f"SVI wings break Lee's bound: b(1+|rho|) = {self.b * (1 + abs(self.rho)):.4g} > 4")

    @property
    def min_total_variance(self) -> float:
        """Minimum of ``w`` over ``k``: ``a + b * sigma * sqrt(1 - rho**2)``."""
        return self.a + self.b * self.sigma * math.sqrt(1.0 - self.rho * self.rho)

    def total_variance(self, k: ArrayLike) -> FloatArray:
        """Total implied variance ``w(k)``.

        Parameters
        ----------
        k : array_like
            Log forward moneyness ``ln(K / F)``.

        Returns
        -------
        numpy.ndarray
            ``a + b * (rho * (k - m) + sqrt((k - m)**2 + sigma**2))``, float64, shape of ``k``.
        """
        x = np.asarray(k, dtype=np.float64) - self.m
        return self.a + self.b * (self.rho * x + np.sqrt(x * x + self.sigma * self.sigma))

    def derivatives(self, k: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``w``, ``dw/dk`` and ``d2w/dk2`` at ``k``.

        Parameters
        ----------
        k : array_like
            Log forward moneyness.

        Returns
        -------
        tuple of numpy.ndarray
            ``(w, w1, w2)`` with ``w1 = b * (rho + x / r)`` and ``w2 = b * sigma**2 / r**3``, where
            ``x = k - m`` and ``r = sqrt(x**2 + sigma**2)``.
        """
        x = np.asarray(k, dtype=np.float64) - self.m
        r = np.sqrt(x * x + self.sigma * self.sigma)
        w = self.a + self.b * (self.rho * x + r)
        w1 = self.b * (self.rho + x / r)
        w2 = self.b * self.sigma * self.sigma / (r * r * r)
        return w, w1, w2

    def implied_vol(self, k: ArrayLike, t: float) -> FloatArray:
        """Implied volatility ``sqrt(w(k) / t)`` of this slice at maturity ``t`` (years)."""
        if not t > 0.0:
            raise SVIError(f"maturity must be > 0, got {t}")
        return np.sqrt(np.maximum(self.total_variance(k), 0.0) / t)

    def butterfly_g(self, k: ArrayLike) -> FloatArray:
        """Gatheral's butterfly function ``g(k)``; the slice is free of butterfly arbitrage iff g >= 0.

        Parameters
        ----------
        k : array_like
            Log forward moneyness.

        Returns
        -------
        numpy.ndarray
            ``g(k)``; ``-inf`` where ``w(k) <= 0``.

        Notes
        -----
        ``g(k) = (1 - k w'/(2w))**2 - (w'**2 / 4) (1/w + 1/4) + w''/2``. The risk-neutral density of
        ``ln(S_T/F)`` is ``p(k) = g(k) / sqrt(2 pi w) * exp(-d_-(k)**2 / 2)``, so ``g < 0`` anywhere means a
        negative density (a butterfly of calls with negative price).

        References
        ----------
        J. Gatheral and A. Jacquier, "Arbitrage-free SVI volatility surfaces", Quantitative Finance
        14(1), 2014, eq. (2.1) and Lemma 2.2.
        """
        kk = np.asarray(k, dtype=np.float64)
        w, w1, w2 = self.derivatives(kk)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = (1.0 - kk * w1 / (2.0 * w)) ** 2 - 0.25 * w1 * w1 * (1.0 / w + 0.25) + 0.5 * w2
        return np.where(w > 0.0, g, -np.inf)


@dataclass(frozen=True, slots=True)
class SVIFit:
    """Result of :func:`fit_svi`.

    Parameters
    ----------
    params : SVIParams
        Fitted raw SVI parameters.
    rmse_total_variance : float
        Weighted root-mean-square error in total variance, ``sqrt(sum w_i e_i**2 / sum w_i)``.
    n_points : int
        Number of quotes used.
    min_g : float
        Minimum of Gatheral's ``g(k)`` over a grid spanning the quotes (widened by 50 % on each side).
    k_min, k_max : float
        Range of log-moneyness of the quotes fitted.
    """

    params: SVIParams
    rmse_total_variance: float
    n_points: int
    min_g: float
    k_min: float
    k_max: float

    @property
    def butterfly_free(self) -> bool:
        """``True`` when ``g(k) >= 0`` on the checked grid (tolerance 1e-10)."""
        return self.min_g >= -1e-10


# ----------------------------------------------------------------------------------------------------
# Inner problem: weighted LS in x = (a, d, c) subject to C x <= e, solved by active-set enumeration.
#   rows of C (on (a, d, c))           meaning
#   ( 0,  1, -1) <= 0                  d <= c            (|rho| <= 1)
#   ( 0, -1, -1) <= 0                  -d <= c
#   ( 0,  1,  1) <= 4 sigma            c + d <= 4 sigma  (Lee: b (1 + rho) <= 4)
#   ( 0, -1,  1) <= 4 sigma            c - d <= 4 sigma  (Lee: b (1 - rho) <= 4)
#   (-1,  1, -1) <= 0                  a + c - d >= 0    (with the next row: a + c - |d| >= 0,
#   (-1, -1, -1) <= 0                  a + c + d >= 0     sufficient for min w >= 0)
#   ( 1,  0,  0) <= max(w)             a <= max w        (Zeliade's upper bound on the level)
_C: Final = np.array(
    [[0, 1, -1], [0, -1, -1], [0, 1, 1], [0, -1, 1], [-1, 1, -1], [-1, -1, -1], [1, 0, 0]], dtype=np.float64
)
_SIGMA_ROWS: Final = np.array([0, 0, 4, 4, 0, 0, 0], dtype=np.float64)  # e = 4 sigma * this + maxw * last
_MAXW_ROWS: Final = np.array([0, 0, 0, 0, 0, 0, 1], dtype=np.float64)


def _independent_active_sets() -> dict[int, npt.NDArray[np.intp]]:
    """Row indices of every linearly independent active set, grouped by size (0 to 3)."""
    sets: dict[int, list[tuple[int, ...]]] = {0: [()], 1: [], 2: [], 3: []}
    for size in (1, 2, 3):
        for combo in itertools.combinations(range(_C.shape[0]), size):
            if np.linalg.matrix_rank(_C[list(combo)]) == size:
                sets[size].append(combo)
    return {s: np.array(v, dtype=np.intp).reshape(len(v), s) for s, v in sets.items()}


_ACTIVE_SETS: Final = _independent_active_sets()
_MIN_STEP = 3e-5  # pattern-search resolution: 3e-5 of the span in m, 3e-5 in ln sigma


def _solve_small(M: FloatArray, r: FloatArray) -> FloatArray:
    """Solve ``M x = r`` for stacks of 1x1, 2x2 or 3x3 systems by Cramer's rule (no LAPACK call per matrix).

    ``M`` has shape ``(..., s, s)`` and ``r`` ``(..., s)``; the systems here are symmetric positive
    definite (Gram and Schur-complement matrices), so the determinant is positive.
    """
    s = M.shape[-1]
    if s == 1:
        return r / M[..., 0, :]
    if s == 2:
        a, b, c, d = M[..., 0, 0], M[..., 0, 1], M[..., 1, 0], M[..., 1, 1]
        det = a * d - b * c
        return np.stack([d * r[..., 0] - b * r[..., 1], a * r[..., 1] - c * r[..., 0]], axis=-1) / det[..., None]
    m0, m1, m2 = M[..., 0, :], M[..., 1, :], M[..., 2, :]
    c0, c1, c2 = _cross(m1, m2), _cross(m2, m0), _cross(m0, m1)
    det = m0[..., 0] * c0[..., 0] + m0[..., 1] * c0[..., 1] + m0[..., 2] * c0[..., 2]
    x = c0 * r[..., 0:1] + c1 * r[..., 1:2] + c2 * r[..., 2:3]
    return x / det[..., None]


def _cross(u: FloatArray, v: FloatArray) -> FloatArray:
    """Cross product over the last axis (3), without :func:`numpy.cross`'s per-call overhead."""
    u0, u1, u2 = u[..., 0], u[..., 1], u[..., 2]
    v0, v1, v2 = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([u1 * v2 - u2 * v1, u2 * v0 - u0 * v2, u0 * v1 - u1 * v0], axis=-1)


def _inner_solve(
    k: FloatArray, w: FloatArray, omega: FloatArray, m: FloatArray, sig: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Best feasible ``(a, d, c)`` and its weighted SSE for each candidate ``(m[j], sig[j])``.

    For an active set with rows ``C_A`` and bounds ``e_A`` the equality-constrained minimiser is
    ``x = x_0 - G^{-1} C_A^T lam`` with ``x_0 = G^{-1} g`` and ``(C_A G^{-1} C_A^T) lam = C_A x_0 - e_A``
    (Schur complement); all sets of one size are solved in one vectorised step.
    """
    y = (k[None, :] - m[:, None]) / sig[:, None]                       # (B, n)
    z = np.sqrt(y * y + 1.0)
    X = np.stack([np.ones_like(y), y, z], axis=-1)                     # (B, n, 3)
    Xw = X * omega[None, :, None]
    XwT = np.swapaxes(Xw, 1, 2)                                         # (B, 3, n)
    G = XwT @ X                                                         # (B, 3, 3)
    g = XwT @ w                                                         # (B, 3)
    G = G + 1e-12 * np.trace(G, axis1=1, axis2=2)[:, None, None] * np.eye(3)
    const = float(np.sum(omega * w * w))
    e = 4.0 * sig[:, None] * _SIGMA_ROWS[None, :] + float(np.max(w)) * _MAXW_ROWS[None, :]  # (B, 7)
    B = m.shape[0]
    tol = np.maximum(np.abs(e), 1e-12) * 1e-9 + 1e-14
    x0 = _solve_small(G, g)                                             # (B, 3)
    GinvC = _solve_small(G[:, None, :, :], np.broadcast_to(_C[None], (B, *_C.shape)))  # (B, 7, 3): G^-1 c_r
    CGC = _C @ np.swapaxes(GinvC, 1, 2)                                 # (B, 7, 7): c_r G^-1 c_q
    Cx0 = x0 @ _C.T                                                     # (B, 7)
    xs, fs = [], []
    for size, acts in _ACTIVE_SETS.items():
        if size == 0:
            x = x0[None]                                                # (1, B, 3)
        else:
            S = CGC[:, acts[:, :, None], acts[:, None, :]]              # (B, A, s, s)
            rhs = Cx0[:, acts] - e[:, acts]                             # (B, A, s)
            lam = _solve_small(S, rhs)                                  # (B, A, s)
            corr = (lam[..., None, :] @ GinvC[:, acts, :])[..., 0, :]   # (B, A, 3)
            x = (x0[:, None, :] - corr).transpose(1, 0, 2)              # (A, B, 3)
        feasible = np.all(x @ _C.T <= e[None] + tol[None], axis=2)
        Gx = (x[..., None, :] @ G[None])[..., 0, :]                    # (A, B, 3); G symmetric
        f = np.sum(x * (Gx - 2.0 * g[None]), axis=2) + const
        xs.append(x)
        fs.append(np.where(feasible & np.isfinite(f), f, np.inf))
    x_all = np.concatenate(xs, axis=0)                                  # (n_sets, B, 3)
    f_all = np.concatenate(fs, axis=0)
    j = np.argmin(f_all, axis=0)
    best_f = f_all[j, np.arange(B)]
    best_x = np.where(np.isfinite(best_f)[:, None], x_all[j, np.arange(B)], np.nan)
    return best_x, np.maximum(best_f, 0.0)


def _grid_local_minima(f: FloatArray, n: int) -> npt.NDArray[np.intp]:
    """Flat indices of up to ``n`` lowest points of a 2-D grid that are <= their 8 neighbours."""
    padded = np.pad(f, 1, mode="constant", constant_values=np.inf)
    rows, cols = f.shape
    neigh = np.stack([padded[1 + di:1 + di + rows, 1 + dj:1 + dj + cols]
                      for di in (-1, 0, 1) for dj in (-1, 0, 1) if (di, dj) != (0, 0)])
    is_min = np.all(f[None] <= neigh, axis=0).ravel()
    flat = f.ravel()
    cand = np.nonzero(is_min)[0]
    cand = cand[np.argsort(flat[cand], kind="stable")][:n]
    if cand.size == 0:
        cand = np.array([int(np.argmin(flat))])
    return cand.astype(np.intp)


def _to_params(a: float, d: float, c: float, m: float, sig: float) -> SVIParams:
    b = c / sig
    rho = d / c if c > 0.0 else 0.0
    rho = float(np.clip(rho, -1.0 + 1e-9, 1.0 - 1e-9))
    b = min(b, _WING_SLOPE_MAX / (1.0 + abs(rho)))
    # the linear constraint a + c - |d| >= 0 implies min w >= 0; clip rounding noise only
    a = max(a, -b * sig * math.sqrt(1.0 - rho * rho))
    return SVIParams(a=float(a), b=float(b), rho=rho, m=float(m), sigma=float(sig))


def fit_svi(
    k: ArrayLike,
    w: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    grid_points: int = 11,
    zoom_levels: int = 4,
    n_starts: int = 3,
    pattern_iterations: int = 200,
    polish: bool = False,
) -> SVIFit:
    """Fit raw SVI to one expiry's total implied variance (quasi-explicit method).

    Parameters
    ----------
    k : array_like
        Log forward moneyness ``ln(K/F)`` of the quotes (1-D).
    w : array_like
        Total implied variance ``sigma_imp**2 * t`` of the quotes.
    weights : array_like, optional
        Non-negative weights of the squared total-variance errors (default: equal). To weight IV errors
        by ``v_i`` pass ``v_i / (2 sigma_i t)**2`` (``dw = 2 sigma t dsigma``).
    grid_points : int, default 11
        Grid size per dimension of each zoom level of the ``(m, sigma)`` search (the first, coarse level
        uses ``grid_points + 6``).
    zoom_levels : int, default 4
        Zoom levels after the coarse grid: a ``grid_points``-square grid of +-1 coarse cell around each
        start, halved at every level.
    n_starts : int, default 3
        Number of local minima of the coarse grid that are refined (the objective in ``(m, sigma)`` is
        not convex).
    pattern_iterations : int, default 200
        Maximum iterations of the final pattern search (8-point stencil; the step grows by 1.5 after a
        move and halves otherwise, down to 3e-5 of the span in ``m`` and 3e-5 in ``ln sigma``).
    polish : bool, default False
        Finish with a Nelder-Mead search on ``(m, ln sigma)`` (about 3x slower; changes the fitted IVs
        of real chains by less than 1e-4 vol).

    Returns
    -------
    SVIFit
        Parameters, weighted RMSE in total variance, number of points and ``min g``.

    Raises
    ------
    SVIError
        Fewer than 5 finite points, non-positive total variance, or negative weights.

    Notes
    -----
    For fixed ``(m, sigma)`` set ``y = (k - m)/sigma``; raw SVI becomes ``w = a + d y + c sqrt(y**2+1)``
    with ``c = b sigma`` and ``d = rho b sigma``. The inner problem minimises ``sum omega_i (w_i - .)**2``
    subject to ``|d| <= c``, ``|d| <= 4 sigma - c`` (Lee's wing bound ``b(1+|rho|) <= 4``),
    ``a + c - |d| >= 0`` (a linear sufficient condition for ``min w >= 0``, weaker than Zeliade's
    ``a >= 0``) and ``a <= max w``. It is a convex QP in 3 unknowns solved exactly: the optimum is the
    best feasible stationary point over all linearly independent active sets. The outer problem over
    ``(m, sigma)`` is non-convex and low-dimensional; it is searched on a zooming grid with
    ``m`` in ``[min k - span, max k + span]`` and ``sigma`` in ``[1e-3 span, 2 span]`` (log-spaced),
    ``span = max k - min k``: a coarse grid, zooming grids around its best ``n_starts`` local minima,
    then a pattern search from each (which follows the curved valleys a shrinking grid can miss),
    optionally polished by Nelder-Mead.

    The quasi-explicit constraints do not guarantee ``g(k) >= 0``; ``min_g`` of the result reports it.

    References
    ----------
    Zeliade Systems, "Quasi-explicit calibration of Gatheral's SVI model", white paper ZWP-0005, 2009.
    J. Gatheral and A. Jacquier, "Arbitrage-free SVI volatility surfaces", Quant. Finance 14(1), 2014.
    """
    kk = np.asarray(k, dtype=np.float64).ravel()
    ww = np.asarray(w, dtype=np.float64).ravel()
    om = np.ones_like(kk) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if not (kk.shape == ww.shape == om.shape):
        raise SVIError(f"k, w and weights must have the same length ({kk.size}, {ww.size}, {om.size})")
    ok = np.isfinite(kk) & np.isfinite(ww) & np.isfinite(om)
    kk, ww, om = kk[ok], ww[ok], om[ok]
    if kk.size < 5 or np.unique(kk).size < 5:
        raise SVIError(f"SVI fit needs at least 5 distinct strikes, got {np.unique(kk).size}")
    if np.any(ww <= 0.0):
        raise SVIError("total variance must be > 0 at every quote")
    if np.any(om < 0.0) or not np.any(om > 0.0):
        raise SVIError("weights must be >= 0 and not all zero")
    om = om / om.sum()

    span = float(kk.max() - kk.min())
    m_lo, m_hi = float(kk.min()) - span, float(kk.max()) + span
    ls_lo, ls_hi = math.log(1e-3 * span), math.log(2.0 * span)
    lo_box = np.array([m_lo, ls_lo])
    hi_box = np.array([m_hi, ls_hi])
    # level 0: coarse grid over the whole box; keep the best grid-local minima as starts
    g0 = np.linspace(0.0, 1.0, grid_points + 6)
    mg, lg = np.meshgrid(m_lo + (m_hi - m_lo) * g0, ls_lo + (ls_hi - ls_lo) * g0, indexing="ij")
    _, f0 = _inner_solve(kk, ww, om, mg.ravel(), np.exp(lg.ravel()))
    starts = _grid_local_minima(f0.reshape(mg.shape), n_starts)
    centres = np.stack([mg.ravel()[starts], lg.ravel()[starts]], axis=1)      # (S, 2)
    fc = f0[starts]
    half = (hi_box - lo_box) / (g0.size - 1)                                 # one coarse cell
    u = np.linspace(-1.0, 1.0, grid_points)
    uu = np.stack(np.meshgrid(u, u, indexing="ij"), axis=-1).reshape(-1, 2)   # (G, 2)
    # zoom: grids of +-1 coarse cell shrinking by 2 around each start
    for _ in range(zoom_levels):
        pts = np.clip(centres[:, None, :] + half[None, None, :] * uu[None, :, :], lo_box, hi_box)  # (S, G, 2)
        flat = pts.reshape(-1, 2)
        _, f = _inner_solve(kk, ww, om, flat[:, 0], np.exp(flat[:, 1]))
        f = f.reshape(pts.shape[:2])
        j = np.argmin(f, axis=1)
        better = f[np.arange(pts.shape[0]), j] < fc
        centres = np.where(better[:, None], pts[np.arange(pts.shape[0]), j], centres)
        fc = np.where(better, f[np.arange(pts.shape[0]), j], fc)
        half = half * 0.5
    # pattern search: move along the 8-point stencil while it improves, halve the step otherwise;
    # unlike a shrinking grid it follows curved valleys of the (m, ln sigma) objective
    step = np.broadcast_to(half * 2.0, centres.shape).copy()
    stencil = np.array([[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=np.float64)
    min_step = _MIN_STEP * np.array([max(span, 1e-12), 1.0])
    for _ in range(pattern_iterations):
        active = np.any(step > min_step, axis=1)
        if not np.any(active):
            break
        pts = np.clip(centres[:, None, :] + step[:, None, :] * stencil[None], lo_box, hi_box)     # (S, 8, 2)
        flat = pts.reshape(-1, 2)
        _, f = _inner_solve(kk, ww, om, flat[:, 0], np.exp(flat[:, 1]))
        f = f.reshape(pts.shape[:2])
        j = np.argmin(f, axis=1)
        fj = f[np.arange(pts.shape[0]), j]
        better = active & (fj < fc)
        centres = np.where(better[:, None], pts[np.arange(pts.shape[0]), j], centres)
        fc = np.where(better, fj, fc)
        step = np.where(better[:, None], step * 1.5, step * 0.5)
    i = int(np.argmin(fc))
    best_f, best_mls = float(fc[i]), centres[i].copy()

    if polish:
        def objective(p: FloatArray) -> float:
            mm = float(np.clip(p[0], m_lo, m_hi))
            ls = float(np.clip(p[1], ls_lo, ls_hi))
            _, f1 = _inner_solve(kk, ww, om, np.array([mm]), np.array([math.exp(ls)]))
            return float(f1[0])

        res = minimize(
            objective, best_mls, method="Nelder-Mead",
            options={"xatol": 1e-7, "fatol": 1e-14 + 1e-10 * best_f, "maxiter": 200,
                     "initial_simplex": best_mls + np.array([[0, 0], [0.01 * span, 0], [0, 0.05]])},
        )
        if res.fun < best_f:
            best_f = float(res.fun)
            best_mls = np.array([np.clip(res.x[0], m_lo, m_hi), np.clip(res.x[1], ls_lo, ls_hi)])

    m_best, s_best = float(best_mls[0]), float(math.exp(best_mls[1]))
    x, f = _inner_solve(kk, ww, om, np.array([m_best]), np.array([s_best]))
    a, d, c = (float(v) for v in x[0])
    params = _to_params(a, d, c, m_best, s_best)
    lo, hi = float(kk.min()) - 0.5 * span, float(kk.max()) + 0.5 * span
    min_g = float(np.min(params.butterfly_g(np.linspace(lo, hi, 401))))
    resid = params.total_variance(kk) - ww
    rmse = float(np.sqrt(np.sum(om * resid * resid)))
    return SVIFit(params=params, rmse_total_variance=rmse, n_points=int(kk.size), min_g=min_g,
                  k_min=float(kk.min()), k_max=float(kk.max()))
