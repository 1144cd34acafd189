r"""Heston (1993) stochastic-volatility model: characteristic function, European prices, price gradient.

Model (risk-neutral, continuously compounded rate :math:`r`, dividend / foreign / funding yield :math:`q`):

.. math::

    dS_t = (r - q) S_t\,dt + \sqrt{v_t} S_t\,dW^S_t, \qquad
    dv_t = \kappa(\theta - v_t)\,dt + \sigma\sqrt{v_t}\,dW^v_t, \qquad
    d\langle W^S, W^v\rangle_t = \rho\,dt .

``sigma`` is the volatility of variance ("vol of vol"), ``v0`` the initial *variance*, ``theta`` the long-run
variance, ``kappa`` the speed of mean reversion. Time is in ACT/365 years.

Pricing method
--------------
Prices come from the Lewis (2000) / Lipton (2002) single-integral representation, written on the forward
:math:`F = S e^{(r-q)t}` with discount factor :math:`D = e^{-rt}` and log-moneyness :math:`k = \ln(F/K)`:

.. math::

    C = D\Big[F - \frac{\sqrt{FK}}{\pi}\int_0^\infty
        \mathrm{Re}\big[e^{iuk}\,\varphi(u - \tfrac{i}{2})\big]\frac{du}{u^2 + 1/4}\Big], \qquad
    P = C - D(F - K),

where :math:`\varphi(z) = E[e^{izX}]`, :math:`X = \ln(S_t/F)`. Three numerical devices make this accurate to
about :math:`10^{-12}F` over the whole range we test (1 day to 15 years, vol of variance up to 3):

1. the characteristic function is evaluated in the "little Heston trap" form of Albrecher et al. (2007),
   rearranged so that nothing is divided by :math:`\sigma^2` (it stays exact as :math:`\sigma \to 0`);
2. a Black-Scholes control variate with the *expected integrated variance*
   :math:`w = \theta t + (v_0-\theta)(1-e^{-\kappa t})/\kappa` is subtracted from the integrand and added back in
   closed form (Andersen and Piterbarg 2007 use the same idea with other choices of :math:`w`). On the contour
   :math:`\mathrm{Im}\,z = -1/2` both characteristic functions equal 1 at :math:`u = \pm i/2`, so the poles of
   :math:`1/(u^2+1/4)` cancel and the remaining integrand is smooth;
3. the integral is truncated where a bound on the tail of :math:`|\varphi|` falls below :math:`10^{-13}`
   (short expiries decay like a Gaussian, long ones only exponentially) and done with Gauss-Legendre, the
   number of nodes growing with the number of oscillations of :math:`e^{iuk}` on the truncated range.

The characteristic function is evaluated once per expiry (per distinct ``t`` and parameter set) on the nodes
and shared by every strike of that expiry: pricing a strike costs one cos/sin per node.

References
----------
.. [1] Heston, S. L. (1993). A closed-form solution for options with stochastic volatility with applications
   to bond and currency options. Review of Financial Studies 6(2), 327-343.
.. [2] Lewis, A. L. (2000). Option Valuation under Stochastic Volatility. Finance Press. Chapter 2, eq. (2.10)
   (the single-integral call formula used here).
.. [3] Albrecher, H., Mayer, P., Schoutens, W., Tistaert, J. (2007). The little Heston trap. Wilmott Magazine,
   January 2007, 83-92. Eq. (2) (the stable form of the characteristic function).
.. [4] Lord, R., Kahl, C. (2010). Complex logarithms in Heston-like models. Mathematical Finance 20(4),
   671-694. Theorem 1 (the principal branch of the logarithm is the correct one in this form).
.. [5] Andersen, L., Piterbarg, V. (2007). Moment explosions in stochastic volatility models. Finance and
   Stochastics 11, 29-50 (Black-Scholes control variate in Fourier pricing).
.. [6] Cui, Y., del Baño Rollin, S., Germano, G. (2017). Full and fast calibration of the Heston stochastic
   volatility model. European Journal of Operational Research 263(2), 625-638. Eqs. (18)-(30): analytic
   gradient of the characteristic function with respect to the five parameters.
"""

from __future__ import annotations

import cmath
import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from cryptoderiv.errors import CryptoderivError

__all__ = [
    "PARAM_NAMES",
    "HestonParameterError",
    "HestonParams",
    "SurfacePricer",
    "characteristic_function",
    "price",
    "price_and_gradient",
    "price_forward",
]

FloatArray = NDArray[np.float64]
ComplexArray = NDArray[np.complex128]

#: Order of the parameters in arrays, gradients and Jacobians.
PARAM_NAMES: tuple[str, ...] = ("v0", "kappa", "theta", "sigma", "rho")

# Tail tolerance on  int_U^inf |phi(u - i/2)| / (u^2 + 1/4) du ; the price error it allows is
# D * sqrt(F K) / pi times this, i.e. about 3e-12 for F = K = 100.
_TAIL_TOL = 1e-13
# Composite Gauss-Legendre (see _nodes): core panel of _CORE_WIDTHS / sqrt(w), then doubling panels;
# nodes per panel of length L: _N_BASE + _N_PER_RAD * L * max|k|.
_CORE_WIDTHS = 4.0
_N_BASE = 24
_N_PER_RAD = 0.5
_N_MAX = 4096
# Below this expected total variance the option is priced at its (discounted) intrinsic value.
_W_MIN = 1e-14


class HestonParameterError(CryptoderivError, ValueError):
    """Heston parameters outside their admissible domain."""


@dataclass(frozen=True, slots=True)
class HestonParams:
    r"""Heston model parameters (validated, immutable).

    Parameters
    ----------
    v0 : float
        Initial variance :math:`v_0 \ge 0` (annualised; an ATM vol of 60 % is ``v0`` near 0.36).
    kappa : float
        Mean-reversion speed :math:`\kappa > 0` (1/years).
    theta : float
        Long-run variance :math:`\theta \ge 0`.
    sigma : float
        Volatility of variance :math:`\sigma \ge 0`.
    rho : float
        Correlation :math:`-1 \le \rho \le 1` between the spot and variance Brownian motions.

    Raises
    ------
    HestonParameterError
        If a value is not finite or outside its domain.

    Notes
    -----
    The Feller condition :math:`2\kappa\theta \ge \sigma^2` guarantees that the variance never reaches 0; it is
    reported (:attr:`feller`), not enforced: calibrated crypto surfaces usually violate it and the pricing
    formula does not need it.
    """

    v0: float
    kappa: float
    theta: float
    sigma: float
    rho: float

    def __post_init__(self) -> None:
        for name in PARAM_NAMES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
                raise HestonParameterError(f"{name} must be a real number, got {value!r}")
            if not math.isfinite(float(value)):
                raise HestonParameterError(f"{name} must be finite, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.v0 < 0.0:
            raise HestonParameterError(f"v0 must be >= 0, got {self.v0}")
        if self.kappa <= 0.0:
            raise HestonParameterError(f"kappa must be > 0, got {self.kappa}")
        if self.theta < 0.0:
            raise HestonParameterError(f"theta must be >= 0, got {self.theta}")
        if self.sigma < 0.0:
            raise HestonParameterError(f"sigma must be >= 0, got {self.sigma}")
        if not -1.0 <= self.rho <= 1.0:
            raise HestonParameterError(f"rho must be in [-1, 1], got {self.rho}")

    @property
    def feller(self) -> bool:
        r"""Whether the Feller condition :math:`2\kappa\theta \ge \sigma^2` holds."""
        return 2.0 * self.kappa * self.theta >= self.sigma**2

    @property
    def feller_ratio(self) -> float:
        r""":math:`2\kappa\theta / \sigma^2` (``inf`` when :math:`\sigma = 0`); >= 1 means Feller holds."""
        return math.inf if self.sigma == 0.0 else 2.0 * self.kappa * self.theta / self.sigma**2

    def to_array(self) -> FloatArray:
        """The parameters as a float64 array in :data:`PARAM_NAMES` order."""
        return np.array([self.v0, self.kappa, self.theta, self.sigma, self.rho], dtype=np.float64)

    @classmethod
    def from_array(cls, values: ArrayLike) -> HestonParams:
        """Build from a length-5 sequence in :data:`PARAM_NAMES` order."""
        arr = np.asarray(values, dtype=np.float64).ravel()
        if arr.shape != (5,):
            raise HestonParameterError(f"expected 5 values {PARAM_NAMES}, got shape {arr.shape}")
        return cls(*(float(x) for x in arr))

    def expected_variance(self, t: float) -> float:
        r"""Expected average variance :math:`\frac1t\int_0^t E[v_s]ds` (``v0`` when ``t == 0``)."""
        if t <= 0.0:
            return self.v0
        return self.theta + (self.v0 - self.theta) * _one_minus_exp_over(self.kappa * t)


def _one_minus_exp_over(x: float) -> float:
    """(1 - exp(-x)) / x, accurate for small x."""
    return 1.0 - 0.5 * x + x * x / 6.0 if abs(x) < 1e-8 else -math.expm1(-x) / x


# ----------------------------------------------------------------------------------------------------------
# Characteristic function
# ----------------------------------------------------------------------------------------------------------


def _log_cf_terms(z: ComplexArray, t: float, kappa: float, sigma: float, rho: float) -> dict[str, Any]:
    r"""Intermediate quantities of :math:`\ln\varphi(z) = v_0 \mathcal{D}(z) + \kappa\theta\,\mathcal{C}(z)`.

    With :math:`a = z^2 + iz`, :math:`\beta = \kappa - i\rho\sigma z`, :math:`d = \sqrt{\beta^2 + \sigma^2 a}`
    (principal root, :math:`\mathrm{Re}\,d \ge 0`), :math:`E = e^{-dt}` and :math:`Q = d(1+E) + \beta(1-E)`:

    .. math::

        \mathcal{D} = -\frac{a(1-E)}{Q}, \qquad
        \mathcal{C} = -\frac{a t}{\beta + d} - 2 y\,\frac{\ln(1+x)}{x}, \qquad
        y = -\frac{a(1-E)}{2d(\beta+d)}, \quad x = \sigma^2 y = \frac{Q}{2d} - 1 .

    This is eq. (2) of Albrecher et al. (2007) with :math:`\beta - d = -\sigma^2 a/(\beta+d)` substituted,
    so that no term is divided by :math:`\sigma^2`; :math:`\ln(1+x) = \ln\frac{1-ge^{-dt}}{1-g}`,
    :math:`g = (\beta-d)/(\beta+d)`, is taken on its principal branch (Lord and Kahl 2010, Theorem 1).
    """
    a = z * (z + 1j)
    beta = kappa - 1j * rho * sigma * z
    d = np.sqrt(beta * beta + (sigma * sigma) * a)
    e = np.exp(-d * t)
    one_minus_e = -np.expm1(-d * t)
    q = d * (1.0 + e) + beta * one_minus_e
    dd = -a * one_minus_e / q
    bpd = beta + d
    n_y = -a * one_minus_e
    m_y = 2.0 * d * bpd
    y = n_y / m_y
    x = (sigma * sigma) * y
    w = 1.0 + x
    small = w == 1.0
    # log1p(x)/x by Goldberg's trick (exact as x -> 0, also for complex x)
    ell = np.log(np.where(small, 2.0, w)) / np.where(small, 1.0, w - 1.0)
    ell = np.where(small, 1.0 + 0.0j, ell)
    cc = -a * t / bpd - 2.0 * y * ell
    return {
        "a": a, "beta": beta, "d": d, "e": e, "one_minus_e": one_minus_e, "q": q, "dd": dd, "bpd": bpd,
        "n_y": n_y, "m_y": m_y, "y": y, "x": x, "ell": ell, "cc": cc,
    }  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _log_cf_lewis(u: FloatArray, t: float, v0: float, kappa: float, theta: float, sigma: float,
                  rho: float) -> ComplexArray:  # pragma: no cover  # fmt: skip
    """Compiled :func:`_log_cf` on the Lewis contour ``z = u - i/2`` (real ``u``), same formulas."""
    out = np.empty(u.shape[0], dtype=np.complex128)
    s2 = sigma * sigma
    for i in range(u.shape[0]):
        z = complex(u[i], -0.5)
        a = z * (z + 1j)
        beta = kappa - 1j * rho * sigma * z
        d = cmath.sqrt(beta * beta + s2 * a)
        e = cmath.exp(-d * t)
        one_minus_e = 1.0 - e
        if abs(d * t) < 1e-3:  # 1 - exp(-x) without cancellation
            x_ = d * t
            one_minus_e = x_ * (1.0 - x_ * (0.5 - x_ * (1.0 / 6.0 - x_ / 24.0)))
        q = d * (1.0 + e) + beta * one_minus_e
        dd = -a * one_minus_e / q
        bpd = beta + d
        y = -a * one_minus_e / (2.0 * d * bpd)
        w = 1.0 + s2 * y
        ell = 1.0 + 0.0j if w == 1.0 else cmath.log(w) / (w - 1.0)
        cc = -a * t / bpd - 2.0 * y * ell
        out[i] = v0 * dd + kappa * theta * cc
    return out


def _log_cf(z: ComplexArray, t: float, p: FloatArray) -> ComplexArray:
    v0, kappa, theta, sigma, rho = (float(v) for v in p)
    terms = _log_cf_terms(z, t, kappa, sigma, rho)
    out: ComplexArray = v0 * terms["dd"] + (kappa * theta) * terms["cc"]
    return out


def _log_cf_gradient(z: ComplexArray, t: float, p: FloatArray) -> tuple[ComplexArray, ComplexArray]:
    r""":math:`\ln\varphi(z)` and its gradient with respect to :math:`(v_0,\kappa,\theta,\sigma,\rho)`.

    Forward-mode chain rule through the quantities of :func:`_log_cf_terms`; the structure follows
    Cui et al. (2017), eqs. (22)-(30), in the representation above (which is equivalent to their eq. (18)
    but has no :math:`1/v_0` or :math:`1/\sigma` factors). Returns ``(psi, dpsi)`` with ``dpsi`` of shape
    ``(5,) + z.shape``.
    """
    v0, kappa, theta, sigma, rho = (float(v) for v in p)
    s = _log_cf_terms(z, t, kappa, sigma, rho)
    a, beta, d, e, q = s["a"], s["beta"], s["d"], s["e"], s["q"]
    dd, bpd, _n_y, m_y, y, x, ell, cc = s["dd"], s["bpd"], s["n_y"], s["m_y"], s["y"], s["x"], s["ell"], s["cc"]
    one_minus_e = s["one_minus_e"]
    # d ell / dx, with a series where the closed form cancels
    small = np.abs(x) < 1e-3
    xs = np.where(small, 0.0, x)
    ell_prime_closed = (2.0 * d / q - ell) / np.where(small, 1.0, xs)
    ell_prime_series = -0.5 + x * (2.0 / 3.0 + x * (-0.75 + x * (0.8 - x * (5.0 / 6.0))))
    ell_prime = np.where(small, ell_prime_series, ell_prime_closed)

    def partials(dbeta: Any, dsigma2_a: Any, dsig: float) -> tuple[ComplexArray, ComplexArray]:
        # dbeta: d beta / dp ; dsigma2_a: d(sigma^2) / dp * a ; dsig: d sigma / dp
        dd_ = (beta * dbeta + 0.5 * dsigma2_a) / d
        de = -t * e * dd_
        dq = dd_ * (1.0 + e) + d * de + dbeta * one_minus_e - beta * de
        ddd = (a * de - dd * dq) / q
        dn_y = a * de
        dm_y = 2.0 * dd_ * bpd + 2.0 * d * (dbeta + dd_)
        dy = (dn_y - y * dm_y) / m_y
        dx = 2.0 * sigma * dsig * y + sigma * sigma * dy
        dcc = a * t * (dbeta + dd_) / (bpd * bpd) - 2.0 * dy * ell - 2.0 * y * ell_prime * dx
        return ddd, dcc

    zero = np.zeros_like(a)
    d_k, c_k = partials(np.ones_like(a), zero, 0.0)
    d_s, c_s = partials(-1j * rho * z, 2.0 * sigma * a, 1.0)
    d_r, c_r = partials(-1j * sigma * z, zero, 0.0)
    psi: ComplexArray = v0 * dd + kappa * theta * cc
    grad = np.empty((5, *np.shape(a)), dtype=np.complex128)
    grad[0] = dd
    grad[1] = v0 * d_k + theta * cc + kappa * theta * c_k
    grad[2] = kappa * cc
    grad[3] = v0 * d_s + kappa * theta * c_s
    grad[4] = v0 * d_r + kappa * theta * c_r
    return psi, grad


def characteristic_function(u: ArrayLike, t: float, params: HestonParams) -> ComplexArray:
    r"""Characteristic function of the log-forward return, :math:`\varphi(u) = E[e^{iu\ln(S_t/F_t)}]`.

    Parameters
    ----------
    u : array_like
        Real or complex arguments.
    t : float
        Time to expiry in years (> 0).
    params : HestonParams
        Model parameters.

    Returns
    -------
    numpy.ndarray
        Complex values, shape of ``u``.

    Notes
    -----
    :math:`\varphi(u) = \exp\big(v_0\mathcal{D}(u) + \kappa\theta\,\mathcal{C}(u)\big)` with
    :math:`\mathcal{C}, \mathcal{D}` as in Albrecher et al. (2007), eq. (2), with the rearrangement described
    in the module docstring. :math:`\varphi(0) = \varphi(-i) = 1` (martingale property).

    References
    ----------
    Albrecher et al. (2007), eq. (2); Heston (1993), eq. (17).
    """
    z = np.asarray(u, dtype=np.complex128)
    return np.asarray(np.exp(_log_cf(z, float(t), params.to_array())), dtype=np.complex128)


# ----------------------------------------------------------------------------------------------------------
# Quadrature
# ----------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _gauss_legendre_unit(n: int) -> tuple[FloatArray, FloatArray]:
    """Gauss-Legendre nodes and weights on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(n)
    nodes = 0.5 * (x + 1.0)
    weights = 0.5 * w
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights


_PROBE: FloatArray = np.asarray(0.5 * 1.2 ** np.arange(0, 92), dtype=np.float64)  # 0.5 .. ~8e6
_PROBE_DU = _PROBE * 0.2
_PROBE_A = _PROBE**2 + 0.25


def _truncation(t: float, p: FloatArray, w: float) -> float:
    """Cached :func:`_truncation_uncached` (repeated pricing with the same expiry and parameters is common)."""
    return _truncation_cached(t, float(p[0]), float(p[1]), float(p[2]), float(p[3]), float(p[4]), w)


@lru_cache(maxsize=4096)
def _truncation_cached(t: float, v0: float, kappa: float, theta: float, sigma: float, rho: float, w: float) -> float:
    return _truncation_uncached(t, np.array([v0, kappa, theta, sigma, rho]), w)


def _truncation_uncached(t: float, p: FloatArray, w: float) -> float:
    r"""Upper integration limit :math:`U` with :math:`\int_U^\infty |\text{integrand}| < ` ``_TAIL_TOL``.

    :math:`|\varphi(u - i/2)|` is probed on a geometric grid; the running maximum from the right bounds it on
    each cell, which bounds the tail integral. The Black-Scholes control variate needs
    :math:`\int_U^\infty e^{-w(u^2+1/4)/2}/(u^2+1/4)\,du < ` ``_TAIL_TOL`` as well.
    """
    mag = np.exp(_log_cf_lewis(_PROBE, t, *(float(v) for v in p)).real)
    env = np.maximum.accumulate(mag[::-1])[::-1]
    tail = np.cumsum((env * _PROBE_DU / _PROBE_A)[::-1])[::-1]
    below = np.nonzero(tail < _TAIL_TOL)[0]
    u_h = float(_PROBE[below[0]]) if below.size else float(_PROBE[-1])
    # Gaussian tail of the control variate: int_U^inf e^{-w u^2/2} / u^2 du <= e^{-w U^2/2} / (w U^3)
    u_bs = math.sqrt(2.0 * math.log(1.0 / _TAIL_TOL) / w)
    for _ in range(3):
        u_bs = math.sqrt(max(2.0 * math.log(1.0 / (_TAIL_TOL * w * u_bs**3)), 1.0) / w)
    return max(u_h, u_bs)


def _nodes(u_max: float, w: float, k_max: float) -> tuple[FloatArray, FloatArray]:
    r"""Composite Gauss-Legendre nodes and weights on :math:`[0, U]`.

    Panels: a core panel :math:`[0, L_0]`, :math:`L_0 = \min(U, c/\sqrt{w})` (the scale on which the Gaussian
    part of :math:`\varphi` varies), then panels doubling in length up to :math:`U` (the exponential tail).
    Each panel of length :math:`L` gets :math:`n_0 + L\,k_{max}/2` nodes, rounded up to a multiple of 8:
    :math:`n_0` for the smooth part, :math:`L k_{max}/2` to resolve :math:`e^{iuk}` (about :math:`\pi` nodes
    per period, the asymptotic requirement of Gauss-Legendre).
    """
    core = min(u_max, _CORE_WIDTHS / math.sqrt(w))
    edges = [0.0, core]
    length = core
    while edges[-1] < u_max:
        edges.append(min(u_max, edges[-1] + length))
        length *= 2.0
    counts = tuple(
        int(min(_N_MAX, 8 * math.ceil((_N_BASE + _N_PER_RAD * (hi - lo) * k_max) / 8.0)))
        for lo, hi in itertools.pairwise(edges)
    )
    return _assemble_nodes(tuple(edges), counts)


@lru_cache(maxsize=1024)
def _assemble_nodes(edges: tuple[float, ...], counts: tuple[int, ...]) -> tuple[FloatArray, FloatArray]:
    us, ws = [], []
    for (lo, hi), n in zip(itertools.pairwise(edges), counts, strict=True):
        span = hi - lo
        if span <= 0.0:
            continue
        x01, w01 = _gauss_legendre_unit(n)
        us.append(lo + span * x01)
        ws.append(span * w01)
    u, wq = np.concatenate(us), np.concatenate(ws)
    u.flags.writeable = False
    wq.flags.writeable = False
    return u, wq


def _black_undiscounted(forward: FloatArray, strike: FloatArray, w: float) -> tuple[FloatArray, FloatArray]:
    """Undiscounted Black call and put with total variance ``w`` (the control variate)."""
    sd = math.sqrt(w)
    d1 = (np.log(forward / strike) + 0.5 * w) / sd
    d2 = d1 - sd
    call = forward * ndtr(d1) - strike * ndtr(d2)
    put = strike * ndtr(-d2) - forward * ndtr(-d1)
    return call, put


def _expected_total_variance(t: float, p: FloatArray) -> float:
    r""":math:`w = \int_0^t E[v_s]\,ds = \theta t + (v_0 - \theta)(1 - e^{-\kappa t})/\kappa`."""
    if t <= 0.0:
        return 0.0
    v0, kappa, theta = float(p[0]), float(p[1]), float(p[2])
    return theta * t + (v0 - theta) * t * _one_minus_exp_over(kappa * t)


@dataclass
class _ExpiryPlan:
    """Quadrature of one expiry: nodes, weights and the strike phase matrices (reusable across parameters)."""

    t: float
    u_max: float
    w_plan: float
    a: FloatArray  # u^2 + 1/4 at the nodes
    z: ComplexArray  # u - i/2
    wq_over_a: FloatArray  # quadrature weights / (u^2 + 1/4)
    cos_m: FloatArray  # cos(k_j u_i), shape (m, n)
    sin_m: FloatArray

    def still_valid(self, u_max: float, w: float) -> bool:
        """Whether these nodes still integrate to full accuracy for a new truncation ``u_max`` and variance ``w``."""
        return 0.5 * self.u_max <= u_max <= self.u_max and 0.6 <= math.sqrt(w / self.w_plan) <= 1.6


def _build_plan(t: float, u_max: float, w: float, k: FloatArray) -> _ExpiryPlan:
    u, wq = _nodes(u_max, w, float(np.max(np.abs(k))) if k.size else 0.0)
    a = u * u + 0.25
    phase = np.outer(k, u)
    z = np.asarray(u - 0.5j, dtype=np.complex128)
    return _ExpiryPlan(t, u_max, w, a, z, wq / a, np.cos(phase), np.sin(phase))


def _evaluate_plan(
    plan: _ExpiryPlan,
    p: FloatArray,
    w: float,
    is_call: NDArray[np.bool_],
    forward: FloatArray,
    strike: FloatArray,
    discount: FloatArray,
    want_gradient: bool,
) -> tuple[FloatArray, FloatArray | None]:
    """Prices (and gradients, shape (m, 5)) of the m options of one expiry for the parameters ``p``."""
    t = plan.t
    if want_gradient:
        psi, dpsi = _log_cf_gradient(plan.z, t, p)
    else:
        psi, dpsi = _log_cf(plan.z, t, p), None
    phi = np.exp(psi)
    f = (phi - np.exp(-0.5 * w * plan.a)) * plan.wq_over_a
    integral = plan.cos_m @ f.real - plan.sin_m @ f.imag
    scale = np.sqrt(forward * strike) / math.pi
    call_bs, put_bs = _black_undiscounted(forward, strike, w)
    prices = discount * (np.where(is_call, call_bs, put_bs) - scale * integral)
    grad = None
    if dpsi is not None:
        g = dpsi * (phi * plan.wq_over_a)  # (5, n)
        dint = plan.cos_m @ g.real.T - plan.sin_m @ g.imag.T  # (m, 5)
        grad = -(discount * scale)[:, None] * dint
    return prices, grad


def _intrinsic(is_call: NDArray[np.bool_], forward: FloatArray, strike: FloatArray,
               discount: FloatArray) -> FloatArray:  # fmt: skip
    out: FloatArray = discount * np.where(is_call, np.maximum(forward - strike, 0.0),
                                          np.maximum(strike - forward, 0.0))  # fmt: skip
    return out


@numba.njit(cache=True, fastmath=True, nogil=True)
def _fourier_sums(k: FloatArray, u: FloatArray, f_re: FloatArray, f_im: FloatArray) -> FloatArray:  # pragma: no cover
    """``out[j] = sum_i Re(exp(i k_j u_i) (f_re[i] + i f_im[i]))`` without building (m, n) phase matrices."""
    m = k.shape[0]
    n = u.shape[0]
    out = np.empty(m)
    for j in range(m):
        kj = k[j]
        acc = 0.0
        for i in range(n):
            ph = kj * u[i]
            acc += math.cos(ph) * f_re[i] - math.sin(ph) * f_im[i]
        out[j] = acc
    return out


def _price_one_expiry(
    is_call: NDArray[np.bool_],
    forward: FloatArray,
    strike: FloatArray,
    discount: FloatArray,
    t: float,
    p: FloatArray,
    want_gradient: bool,
) -> tuple[FloatArray, FloatArray | None]:
    """Prices (and gradients, shape (m, 5)) of m options sharing ``t`` and the parameters ``p``.

    Without gradient the strike sums are accumulated by a compiled kernel (one sine/cosine per strike and node,
    no phase matrices); with gradient the phase matrices of :func:`_build_plan` are shared by the 6 sums.
    """
    w = _expected_total_variance(t, p)
    if w < _W_MIN:
        return _intrinsic(is_call, forward, strike, discount), (
            np.zeros((forward.shape[0], 5)) if want_gradient else None
        )
    k = np.log(forward / strike)
    u_max = _truncation(t, p, w)
    if want_gradient:
        plan = _build_plan(t, u_max, w, k)
        return _evaluate_plan(plan, p, w, is_call, forward, strike, discount, True)
    u, wq = _nodes(u_max, w, float(np.max(np.abs(k))))
    a = u * u + 0.25
    phi = np.exp(_log_cf_lewis(u, t, float(p[0]), float(p[1]), float(p[2]), float(p[3]), float(p[4])))
    f = (phi - np.exp(-0.5 * w * a)) * (wq / a)
    sums = _fourier_sums(k, u, np.ascontiguousarray(f.real), np.ascontiguousarray(f.imag))
    scale = np.sqrt(forward * strike) / math.pi
    call_bs, put_bs = _black_undiscounted(forward, strike, w)
    return discount * (np.where(is_call, call_bs, put_bs) - scale * sums), None


# ----------------------------------------------------------------------------------------------------------
# Public pricing API
# ----------------------------------------------------------------------------------------------------------


def _is_call(kind: Any) -> NDArray[np.bool_]:
    if isinstance(kind, str):
        lowered = kind.lower()
        if lowered in ("call", "c"):
            return np.array(True)
        if lowered in ("put", "p"):
            return np.array(False)
        raise ValueError(f"kind must be 'call' or 'put', got {kind!r}")
    arr = np.asarray(kind)
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind in "iuf":  # +1 call / -1 put, as in cryptoderiv.pricing.black76
        if not np.all((arr == 1) | (arr == -1)):
            raise ValueError("numeric kind must be +1 (call) or -1 (put)")
        return np.asarray(arr == 1)
    if arr.dtype.kind != "U":
        arr = arr.astype(str)
    calls = (arr == "call") | (arr == "c")
    puts = (arr == "put") | (arr == "p")
    if not np.all(calls | puts):  # mixed case: the slower path
        lowered_arr = np.char.lower(arr)
        calls = np.isin(lowered_arr, ("call", "c"))
        puts = np.isin(lowered_arr, ("put", "p"))
    if not np.all(calls | puts):
        bad = np.unique(arr[~(calls | puts)])
        raise ValueError(f"kind must be 'call' or 'put', got {bad.tolist()}")
    return np.asarray(calls)


def _validate(fwd: FloatArray, strike: FloatArray, t: FloatArray, df: FloatArray, pv0: FloatArray,
              pk: FloatArray, pth: FloatArray, ps: FloatArray, pr: FloatArray) -> None:  # fmt: skip
    """Raise on invalid inputs (one vectorised pass; the slow path only names the culprit)."""
    if fwd.size == 0:
        return
    if not np.isfinite(np.stack([fwd, strike, t, df, pv0, pk, pth, ps, pr])).all():
        names = ("forward/spot", "strike", "t", "discount factor/rate", "v0", "kappa", "theta", "sigma", "rho")
        for name, arr in zip(names, (fwd, strike, t, df, pv0, pk, pth, ps, pr), strict=True):
            if not np.isfinite(arr).all():
                err = HestonParameterError if name in PARAM_NAMES else ValueError
                raise err(f"{name} must be finite")
    if fwd.min() <= 0 or strike.min() <= 0:
        raise ValueError("forward/spot and strike must be > 0")
    if t.min() < 0:
        raise ValueError("t must be >= 0")
    if df.min() <= 0:
        raise ValueError("discount factor must be > 0")
    if pv0.min() < 0 or pth.min() < 0 or ps.min() < 0:
        raise HestonParameterError("v0, theta and sigma must be >= 0")
    if pk.min() <= 0:
        raise HestonParameterError("kappa must be > 0")
    if np.abs(pr).max() > 1:
        raise HestonParameterError("rho must be in [-1, 1]")


def _price_core(
    kind: Any,
    forward: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    discount: ArrayLike,
    v0: ArrayLike,
    kappa: ArrayLike,
    theta: ArrayLike,
    sigma: ArrayLike,
    rho: ArrayLike,
    want_gradient: bool,
) -> tuple[FloatArray, FloatArray | None, tuple[int, ...]]:
    is_call = _is_call(kind)
    arrays = np.broadcast_arrays(
        is_call, *(np.asarray(x, dtype=np.float64) for x in (forward, strike, t, discount, v0, kappa, theta,
                                                               sigma, rho))
    )  # fmt: skip
    shape = arrays[0].shape
    call_f = np.ascontiguousarray(arrays[0]).ravel()
    fwd, k_, tt, df, pv0, pk, pth, ps, pr = (np.ascontiguousarray(x, dtype=np.float64).ravel() for x in arrays[1:])
    _validate(fwd, k_, tt, df, pv0, pk, pth, ps, pr)

    out = np.empty(fwd.shape[0])
    grad = np.empty((fwd.shape[0], 5)) if want_gradient else None
    if fwd.shape[0] == 0:
        return out, grad, shape
    if fwd.shape[0] == 1:
        prices, g = _price_one_expiry(call_f, fwd, k_, df, float(tt[0]), np.array([pv0[0], pk[0], pth[0], ps[0],
                                      pr[0]]), want_gradient)  # fmt: skip
        return prices, g, shape
    params_scalar = all(np.all(x == x[0]) for x in (pv0, pk, pth, ps, pr))
    if params_scalar:  # the usual case: one parameter set, group by expiry only
        times, inverse = np.unique(tt, return_inverse=True)
        uniq = np.column_stack([times, np.tile([pv0[0], pk[0], pth[0], ps[0], pr[0]], (times.size, 1))])
    else:
        keys = np.stack([tt, pv0, pk, pth, ps, pr], axis=1)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    if uniq.shape[0] == 1:
        groups = [np.arange(fwd.shape[0])]
    else:
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(uniq.shape[0] + 1))
        groups = [order[bounds[i] : bounds[i + 1]] for i in range(uniq.shape[0])]
    for gi, idx in enumerate(groups):
        row = uniq[gi]
        prices, g = _price_one_expiry(call_f[idx], fwd[idx], k_[idx], df[idx], float(row[0]), row[1:],
                                      want_gradient)  # fmt: skip
        out[idx] = prices
        if grad is not None and g is not None:
            grad[idx] = g
    return out, grad, shape


def price(
    kind: Any,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    v0: ArrayLike,
    kappa: ArrayLike,
    theta: ArrayLike,
    sigma: ArrayLike,
    rho: ArrayLike,
) -> Any:
    r"""European option prices under Heston (1993).

    All numeric arguments broadcast against each other (NumPy rules).

    Parameters
    ----------
    kind : str or array_like of str
        ``"call"`` or ``"put"`` (case-insensitive; ``"c"``/``"p"`` accepted), +1 / -1, or a boolean array
        (``True`` = call).
    spot : array_like
        Spot price :math:`S > 0`.
    strike : array_like
        Strike :math:`K > 0`.
    t : array_like
        Time to expiry in ACT/365 years, :math:`t \ge 0` (``t == 0`` gives the intrinsic value).
    rate : array_like
        Continuously compounded risk-free rate :math:`r`.
    div_yield : array_like
        Continuously compounded dividend / foreign / carry yield :math:`q`.
    v0, kappa, theta, sigma, rho : array_like
        Heston parameters (see :class:`HestonParams`); ``sigma`` is the volatility of variance.

    Returns
    -------
    numpy.ndarray or float
        Prices in the currency of ``spot``, broadcast shape (a Python float for all-scalar input).

    Raises
    ------
    HestonParameterError
        Parameters outside their domain.
    ValueError
        Bad ``kind``, non-positive spot/strike or negative time.

    Notes
    -----
    With :math:`F = Se^{(r-q)t}`, :math:`D = e^{-rt}`, :math:`k = \ln(F/K)` and the Black control variate
    :math:`C_{BS}(w)` of total variance :math:`w = \theta t + (v_0-\theta)(1-e^{-\kappa t})/\kappa`:

    .. math::

        C = D\Big[C_{BS}(w) - \frac{\sqrt{FK}}{\pi}\int_0^{U}\mathrm{Re}\Big[e^{iuk}
            \big(\varphi(u-\tfrac{i}{2}) - e^{-w(u^2+1/4)/2}\big)\Big]\frac{du}{u^2+1/4}\Big],

    (Lewis 2000, eq. 2.10, with the control variate), puts likewise with the Black put. Options with the same
    ``t`` and parameters share one set of characteristic-function evaluations. Accuracy: about
    :math:`10^{-12}\max(F, K)` absolute against 30-digit references (``tests/reference/heston_reference.csv``).

    References
    ----------
    Heston (1993); Lewis (2000), eq. (2.10); Albrecher et al. (2007), eq. (2); Lord and Kahl (2010).

    Examples
    --------
    >>> round(price("call", 100.0, 100.0, 1.0, 0.01, 0.02, 0.04, 4.0, 0.25, 1.0, -0.5), 10)
    16.070154917
    """
    s = np.asarray(spot, dtype=np.float64)
    tt = np.asarray(t, dtype=np.float64)
    r = np.asarray(rate, dtype=np.float64)
    q = np.asarray(div_yield, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        forward = s * np.exp((r - q) * tt)
        discount = np.exp(-r * tt)
    out, _, shape = _price_core(kind, forward, strike, tt, discount, v0, kappa, theta, sigma, rho, False)
    res = out.reshape(shape)
    return float(res) if res.ndim == 0 else res


def price_forward(
    kind: Any,
    forward: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    params: HestonParams,
    discount_factor: ArrayLike = 1.0,
) -> Any:
    r"""European prices on a forward (Black-76 style): :math:`D\,E[(F_T - K)^+]` under Heston.

    Parameters
    ----------
    kind : str or array_like
        ``"call"`` / ``"put"`` (see :func:`price`).
    forward : array_like
        Forward of the option's expiry, :math:`F > 0`.
    strike : array_like
        Strike :math:`K > 0`.
    t : array_like
        Time to expiry in years.
    params : HestonParams
        Model parameters.
    discount_factor : array_like, default 1.0
        Discount factor to the expiry, :math:`D`.

    Returns
    -------
    numpy.ndarray or float
        Prices in the currency of ``forward``.

    Notes
    -----
    Same formula as :func:`price` with :math:`F` and :math:`D` given directly; this is how an exchange option
    chain comes (per-expiry futures or synthetic forward, :math:`D = 1` at zero rate). Prices are homogeneous of
    degree one in :math:`(F, K)`, so the coin premium of a Deribit inverse option (USD value over the forward)
    is ``price_forward(kind, 1.0, K / F, t, params)``.

    References
    ----------
    Lewis (2000), eq. (2.10); Albrecher et al. (2007), eq. (2); Black (1976) for the forward setting.
    """
    out, _, shape = _price_core(kind, forward, strike, t, discount_factor, params.v0, params.kappa,
                                params.theta, params.sigma, params.rho, False)  # fmt: skip
    res = out.reshape(shape)
    return float(res) if res.ndim == 0 else res


def price_and_gradient(
    kind: Any,
    forward: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    params: HestonParams,
    discount_factor: ArrayLike = 1.0,
) -> tuple[FloatArray, FloatArray]:
    r"""Prices and their analytic gradient with respect to :math:`(v_0, \kappa, \theta, \sigma, \rho)`.

    Parameters
    ----------
    kind, forward, strike, t, params, discount_factor
        As in :func:`price_forward`.

    Returns
    -------
    prices : numpy.ndarray
        Shape ``B`` (the broadcast shape of the inputs).
    gradient : numpy.ndarray
        Shape ``B + (5,)``, last axis in :data:`PARAM_NAMES` order.

    Notes
    -----
    Differentiating under the integral (Cui et al. 2017, eq. (22)):

    .. math::

        \frac{\partial C}{\partial p} = -D\frac{\sqrt{FK}}{\pi}\int_0^\infty \mathrm{Re}\Big[e^{iuk}
            \varphi(u-\tfrac{i}{2})\,\frac{\partial\ln\varphi(u-\tfrac{i}{2})}{\partial p}\Big]
            \frac{du}{u^2+1/4},

    with the closed-form derivatives of :math:`\ln\varphi` (Cui et al. 2017, eqs. (23)-(30), here in the
    representation of :func:`characteristic_function`). The integrand has no pole at :math:`u = \pm i/2`
    (:math:`\varphi(0) = \varphi(-i) = 1` for every parameter set), so no control variate is needed. Puts
    have the same gradient as calls (parity does not depend on the parameters). The same nodes as the price
    are used, so the gradient costs about twice a price.

    References
    ----------
    Cui, del Baño Rollin and Germano (2017), eqs. (18)-(30).
    """
    out, grad, shape = _price_core(kind, forward, strike, t, discount_factor, params.v0, params.kappa,
                                   params.theta, params.sigma, params.rho, True)  # fmt: skip
    assert grad is not None
    return out.reshape(shape), grad.reshape((*shape, 5))


class SurfacePricer:
    r"""Prices one fixed set of options (an option chain) for many parameter sets, fast.

    Calibration prices the same strikes and expiries hundreds of times. The quadrature nodes of an expiry depend
    on the parameters only through the truncation point :math:`U` and the expected variance :math:`w`, so the
    strike phase matrices :math:`\cos(k_j u_i)`, :math:`\sin(k_j u_i)` (the expensive part) are built once and
    kept while they remain accurate for the new parameters (:math:`U_{new} \in [U/2, U]` and
    :math:`\sqrt{w_{new}/w} \in [0.6, 1.6]`; plans are built with 15 % head-room on :math:`U`). Each evaluation
    then costs one characteristic-function evaluation per node and two small matrix products per expiry.

    Parameters
    ----------
    kind : str or array_like
        ``"call"`` / ``"put"`` per option (see :func:`price`).
    forward : array_like
        Forward of each option's expiry.
    strike : array_like
        Strikes.
    t : array_like
        Times to expiry in years (options with equal ``t`` share a plan).
    discount_factor : array_like, default 1.0
        Discount factors to expiry.

    Notes
    -----
    Same formula and accuracy as :func:`price_forward`; prices are returned flat, in input order.

    References
    ----------
    Cui, del Baño Rollin and Germano (2017) (who likewise re-use the quadrature nodes across calibration
    iterations and strikes).
    """

    def __init__(
        self,
        kind: Any,
        forward: ArrayLike,
        strike: ArrayLike,
        t: ArrayLike,
        discount_factor: ArrayLike = 1.0,
    ) -> None:
        is_call = _is_call(kind)
        numeric = (np.asarray(x, dtype=np.float64) for x in (forward, strike, t, discount_factor))
        arrays = np.broadcast_arrays(is_call, *numeric)
        self.shape: tuple[int, ...] = arrays[0].shape
        self._is_call = np.ascontiguousarray(arrays[0]).ravel()
        self._forward, self._strike, self._t, self._discount = (
            np.ascontiguousarray(x, dtype=np.float64).ravel() for x in arrays[1:]
        )
        if np.any(~np.isfinite(self._forward)) or np.any(self._forward <= 0) or np.any(self._strike <= 0):
            raise ValueError("forward and strike must be finite and > 0")
        if np.any(~np.isfinite(self._t)) or np.any(self._t < 0):
            raise ValueError("t must be finite and >= 0")
        if np.any(~np.isfinite(self._discount)) or np.any(self._discount <= 0):
            raise ValueError("discount factor must be finite and > 0")
        times, inverse = np.unique(self._t, return_inverse=True)
        self._groups = [(float(tt), np.nonzero(inverse.ravel() == i)[0]) for i, tt in enumerate(times)]
        self._k = [np.log(self._forward[idx] / self._strike[idx]) for _, idx in self._groups]
        self._plans: list[_ExpiryPlan | None] = [None] * len(self._groups)
        #: number of quadrature plans built so far (diagnostics)
        self.n_plan_builds = 0

    @property
    def n_options(self) -> int:
        """Number of options priced."""
        return int(self._forward.shape[0])

    def _run(self, params: HestonParams, want_gradient: bool) -> tuple[FloatArray, FloatArray | None]:
        p = params.to_array()
        out = np.empty(self.n_options)
        grad = np.zeros((self.n_options, 5)) if want_gradient else None
        for gi, (t, idx) in enumerate(self._groups):
            args = (self._is_call[idx], self._forward[idx], self._strike[idx], self._discount[idx])
            w = _expected_total_variance(t, p)
            if w < _W_MIN:
                out[idx] = _intrinsic(*args)
                continue
            u_max = _truncation(t, p, w)
            plan = self._plans[gi]
            if plan is None or not plan.still_valid(u_max, w):
                plan = _build_plan(t, 1.15 * u_max, w, self._k[gi])
                self._plans[gi] = plan
                self.n_plan_builds += 1
            prices, g = _evaluate_plan(plan, p, w, *args, want_gradient)
            out[idx] = prices
            if grad is not None and g is not None:
                grad[idx] = g
        return out, grad

    def price(self, params: HestonParams) -> FloatArray:
        """Prices for ``params``, flat array in input order."""
        return self._run(params, False)[0]

    def price_and_gradient(self, params: HestonParams) -> tuple[FloatArray, FloatArray]:
        """Prices and their gradient (shape ``(n, 5)``, :data:`PARAM_NAMES` order) for ``params``."""
        out, grad = self._run(params, True)
        assert grad is not None
        return out, grad


def __getattr__(name: str) -> Any:
    """``heston.calibrate`` and ``heston.HestonCalibrationResult`` (the public names), defined in
    :mod:`cryptoderiv.pricing.heston_calibration`, which imports this module: resolved lazily."""
    if name in {"calibrate", "HestonCalibrationResult"}:
        from cryptoderiv.pricing import heston_calibration

        return getattr(heston_calibration, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
