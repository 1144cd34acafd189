r"""Heston calibration to an option surface: analytic gradient + Levenberg-Marquardt.

The quotes come the way exchange chains come: per option a strike, a time to expiry, the forward of its expiry
(futures or synthetic forward) and a discount factor (1 at zero rate, the Deribit convention), plus a market
price or Black-76 implied volatility. Everything is priced with :class:`~cryptoderiv.pricing.heston.SurfacePricer`
(quadrature plans cached across iterations) and its analytic parameter gradient (Cui et al. 2017).

Error measures (``objective``), with user weights :math:`\omega_i \ge 0` (default 1) and
:math:`\min \tfrac12\sum_i \omega_i e_i^2`:

``"price_vega"`` (default)
    :math:`e_i = (P_i(\Theta) - P_i^{mkt}) / \mathcal{V}_i`, :math:`\mathcal{V}_i` the Black-76 vega at the
    market implied volatility (floored at 1 % of the at-the-money vega of the expiry). To first order this is
    the implied-volatility error :math:`\sigma_i(\Theta) - \sigma_i^{mkt}` (vol units), but needs no
    implied-volatility inversion in the loop.
``"iv"``
    :math:`e_i = \sigma^{BS}_i(P_i(\Theta)) - \sigma_i^{mkt}` exactly (Black-76 inversion of each model price at
    each iteration); Jacobian :math:`\nabla_\Theta P_i / \mathcal{V}_i(\sigma_i(\Theta))` (implicit function
    theorem). Where a model price has no implied volatility the option falls back to the vega-scaled residual.
``"price"``
    :math:`e_i = P_i(\Theta) - P_i^{mkt}` in price units.

Minimisation: a box-constrained Levenberg-Marquardt (Marquardt's diagonal scaling, Nielsen's damping update,
steps projected on the bounds), as in Cui et al. (2017), Section 4, with the analytic Jacobian.

References
----------
.. [1] Cui, Y., del Baño Rollin, S., Germano, G. (2017). Full and fast calibration of the Heston stochastic
   volatility model. European Journal of Operational Research 263(2), 625-638. Eqs. (18)-(30) (gradient),
   Section 4 / Algorithm 1 (Levenberg-Marquardt).
.. [2] Madsen, K., Nielsen, H. B., Tingleff, O. (2004). Methods for Non-Linear Least Squares Problems, 2nd ed.,
   IMM, DTU. Algorithm 3.16 (damping update).
.. [3] Marquardt, D. W. (1963). An algorithm for least-squares estimation of nonlinear parameters. SIAM J. Appl.
   Math. 11(2), 431-441.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cryptoderiv.pricing import black76, implied_vol
from cryptoderiv.pricing.heston import HestonParameterError, HestonParams, SurfacePricer

__all__ = ["HestonBounds", "HestonCalibrationResult", "calibrate"]

FloatArray = NDArray[np.float64]
Objective = Literal["price_vega", "iv", "price"]
_OBJECTIVES = ("price_vega", "iv", "price")


@dataclass(frozen=True, slots=True)
class HestonBounds:
    """Box constraints of the calibration, in :data:`~cryptoderiv.pricing.heston.PARAM_NAMES` order.

    The defaults are wide enough for crypto surfaces (vol of variance up to 10, mean reversion up to 50/year)
    and keep the problem away from the degenerate edges (``sigma = 0``, ``|rho| = 1``).
    """

    lower: tuple[float, float, float, float, float] = (1e-4, 1e-3, 1e-4, 1e-3, -0.999)
    upper: tuple[float, float, float, float, float] = (9.0, 50.0, 9.0, 10.0, 0.999)

    def __post_init__(self) -> None:
        lo, hi = np.asarray(self.lower, dtype=float), np.asarray(self.upper, dtype=float)
        if lo.shape != (5,) or hi.shape != (5,) or np.any(lo > hi):
            raise HestonParameterError("bounds need 5 lower <= upper values")
        HestonParams.from_array(lo)
        HestonParams.from_array(hi)

    def clip(self, x: FloatArray) -> FloatArray:
        """Project ``x`` on the box."""
        return np.clip(x, self.lower, self.upper)


@dataclass(frozen=True)
class HestonCalibrationResult:
    """Outcome of :func:`calibrate`.

    Attributes
    ----------
    params : HestonParams
        Calibrated parameters.
    initial : HestonParams
        Starting point.
    objective : str
        Error measure (see the module docstring).
    rmse_iv : float
        Root-mean-square of model minus market Black-76 implied volatility (vol units, 0.01 = 1 vol point),
        over the options where both exist (unweighted).
    rmse_price : float
        Root-mean-square price error, in the units of the input prices (unweighted).
    max_abs_iv_error : float
        Largest absolute implied-volatility error.
    cost : float
        Final objective :math:`\\tfrac12\\sum_i \\omega_i e_i^2`.
    iterations : int
        Levenberg-Marquardt iterations (trial steps).
    n_evaluations : int
        Surface evaluations (each prices every option and its 5-parameter gradient).
    wall_time : float
        Seconds, start to end of :func:`calibrate`.
    success : bool
        Whether a convergence criterion was met (not the iteration limit or a numerical failure).
    message : str
        Why the iteration stopped.
    n_options : int
        Number of quotes.
    model_price, model_iv, market_price, market_iv : numpy.ndarray
        Per-quote values at the solution (input order).
    """

    params: HestonParams
    initial: HestonParams
    objective: str
    rmse_iv: float
    rmse_price: float
    max_abs_iv_error: float
    cost: float
    iterations: int
    n_evaluations: int
    wall_time: float
    success: bool
    message: str
    n_options: int
    model_price: FloatArray = field(repr=False)
    model_iv: FloatArray = field(repr=False)
    market_price: FloatArray = field(repr=False)
    market_iv: FloatArray = field(repr=False)

    def summary(self) -> str:
        """A short human-readable report."""
        p = self.params
        lines = [
            f"Heston calibration ({self.objective}) on {self.n_options} options: "
            f"{'converged' if self.success else 'NOT converged'} - {self.message}",
            f"  v0={p.v0:.6g}  kappa={p.kappa:.6g}  theta={p.theta:.6g}  sigma={p.sigma:.6g}  rho={p.rho:.6g}"
            f"  (Feller 2*kappa*theta/sigma^2 = {p.feller_ratio:.3g})",
            f"  RMSE IV {self.rmse_iv * 100:.4f} vol pts (max {self.max_abs_iv_error * 100:.4f}),"
            f" RMSE price {self.rmse_price:.6g}",
            f"  {self.iterations} iterations, {self.n_evaluations} evaluations, {self.wall_time * 1e3:.1f} ms",
        ]
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------
# Levenberg-Marquardt
# ----------------------------------------------------------------------------------------------------------


@dataclass
class _LMOutcome:
    x: FloatArray
    residual: FloatArray
    cost: float
    iterations: int
    n_evaluations: int
    success: bool
    message: str


def _levenberg_marquardt(
    fun: Callable[[FloatArray], tuple[FloatArray, FloatArray]],
    x0: FloatArray,
    bounds: HestonBounds,
    max_iterations: int,
    ftol: float,
    xtol: float,
    gtol: float,
) -> _LMOutcome:
    r"""Box-constrained Levenberg-Marquardt on :math:`\tfrac12\|r(x)\|^2` with Jacobian ``J``.

    Step: :math:`(J^TJ + \mu\,\mathrm{diag}(J^TJ))h = -J^Tr` (Marquardt 1963), projected on the box; gain ratio
    :math:`\varrho = (F(x) - F(x+h)) / (L(0) - L(h))`; on success :math:`\mu \leftarrow \mu\max(1/3,
    1 - (2\varrho - 1)^3)`, otherwise :math:`\mu \leftarrow \mu\nu`, :math:`\nu \leftarrow 2\nu` (Madsen et al.
    2004, Algorithm 3.16).
    """
    x = bounds.clip(np.asarray(x0, dtype=np.float64))
    r, jac = fun(x)
    n_eval = 1
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(jac))):
        return _LMOutcome(x, r, math.inf, 0, n_eval, False, "non-finite residuals at the starting point")
    cost = 0.5 * float(r @ r)
    a = jac.T @ jac
    g = jac.T @ r
    mu = 1e-3 * float(np.max(np.diag(a)))
    nu = 2.0
    message = "maximum number of iterations reached"
    success = False
    it = 0
    lower, upper = np.asarray(bounds.lower), np.asarray(bounds.upper)
    for it in range(1, max_iterations + 1):  # noqa: B007
        # active set: parameters on a bound whose descent direction points outside stay fixed
        active = ((x <= lower) & (g > 0)) | ((x >= upper) & (g < 0))
        free = ~active
        scaled_grad = float(np.max(np.abs(g[free]) * np.maximum(np.abs(x[free]), 1.0), initial=0.0))
        if scaled_grad <= gtol or cost == 0.0:
            message, success = "projected gradient below tolerance", True
            break
        a_f = a[np.ix_(free, free)]
        diag = np.maximum(np.diag(a_f), 1e-12 * max(float(np.max(np.diag(a_f))), 1e-300))
        step = np.zeros_like(x)
        try:
            step[free] = np.linalg.solve(a_f + mu * np.diag(diag), -g[free])
        except np.linalg.LinAlgError:
            mu *= nu
            nu *= 2.0
            continue
        x_new = bounds.clip(x + step)
        step = x_new - x
        if np.linalg.norm(step) <= xtol * (np.linalg.norm(x) + xtol):
            message, success = "step below tolerance", True
            break
        r_new, jac_new = fun(x_new)
        n_eval += 1
        predicted = -(float(g @ step) + 0.5 * float(step @ a @ step))
        cost_new = 0.5 * float(r_new @ r_new) if np.all(np.isfinite(r_new)) else math.inf
        gain = (cost - cost_new) / predicted if predicted > 0 else -1.0
        if gain > 0 and np.all(np.isfinite(jac_new)):
            reduction = cost - cost_new
            x, r, jac, cost = x_new, r_new, jac_new, cost_new
            a = jac.T @ jac
            g = jac.T @ r
            mu *= max(1.0 / 3.0, 1.0 - (2.0 * gain - 1.0) ** 3)
            nu = 2.0
            if reduction <= ftol * cost_new:
                message, success = "relative reduction of the objective below tolerance", True
                break
        else:
            mu *= nu
            nu *= 2.0
            if mu > 1e20:
                message, success = "damping exhausted (no further decrease possible)", True
                break
    return _LMOutcome(x, r, cost, it, n_eval, success, message)


# ----------------------------------------------------------------------------------------------------------
# Calibration
# ----------------------------------------------------------------------------------------------------------


def _initial_guess(t: FloatArray, log_moneyness: FloatArray, iv: FloatArray) -> HestonParams:
    """Start from the data: short / long at-the-money variance for v0 / theta, skew sign for rho."""
    ok = np.isfinite(iv)
    times = np.unique(t[ok])
    atm = []
    for tt in times:
        sel = ok & (t == tt)
        atm.append(float(iv[sel][np.argmin(np.abs(log_moneyness[sel]))]))
    v0 = atm[0] ** 2
    theta = atm[-1] ** 2
    long_half = ok & (t >= np.median(times))
    slope = 0.0
    if np.count_nonzero(long_half) >= 3 and np.ptp(log_moneyness[long_half]) > 0:
        slope = float(np.polyfit(log_moneyness[long_half], iv[long_half], 1)[0])
    rho = -0.5 if slope < -0.02 else (0.2 if slope > 0.02 else -0.1)
    return HestonParams(v0=max(v0, 1e-3), kappa=2.0, theta=max(theta, 1e-3), sigma=1.0, rho=rho)


def calibrate(
    kind: Any,
    strike: ArrayLike,
    t: ArrayLike,
    forward: ArrayLike,
    *,
    price: ArrayLike | None = None,
    iv: ArrayLike | None = None,
    discount_factor: ArrayLike = 1.0,
    weights: ArrayLike | None = None,
    objective: Objective = "price_vega",
    initial: HestonParams | HestonCalibrationResult | None = None,
    bounds: HestonBounds | None = None,
    max_iterations: int = 100,
    ftol: float = 1e-10,
    xtol: float = 1e-10,
    gtol: float = 1e-14,
) -> HestonCalibrationResult:
    r"""Calibrate Heston parameters to option quotes.

    Parameters
    ----------
    kind : str or array_like
        ``"call"`` / ``"put"`` per quote.
    strike : array_like
        Strikes.
    t : array_like
        Times to expiry, ACT/365 years (> 0).
    forward : array_like
        Forward of each quote's expiry (same currency as the prices).
    price : array_like, optional
        Market prices (e.g. mid), currency of ``forward``. For Deribit inverse options pass the coin premium
        times the forward. Needed unless ``iv`` is given (then prices are Black-76 prices of ``iv``).
    iv : array_like, optional
        Market Black-76 implied volatilities (decimal). Computed from ``price`` when omitted.
    discount_factor : array_like, default 1.0
        Discount factor to each expiry.
    weights : array_like, optional
        Non-negative weights :math:`\omega_i` of the squared errors (default 1).
    objective : {"price_vega", "iv", "price"}, default "price_vega"
        Error measure, see the module docstring.
    initial : HestonParams or HestonCalibrationResult, optional
        Starting point (warm start: pass the previous result). Default: a data-driven guess.
    bounds : HestonBounds, optional
        Box constraints (default :class:`HestonBounds`).
    max_iterations : int, default 100
        Levenberg-Marquardt iteration limit.
    ftol, xtol, gtol : float
        Stop when the relative decrease of the objective, the relative step, or the largest gradient
        component (times :math:`\max(|x_j|, 1)`) falls below these.

    Returns
    -------
    HestonCalibrationResult
        Parameters, fit errors, iterations, wall time, status; ``summary()`` prints it.

    Raises
    ------
    ValueError
        Neither ``price`` nor ``iv`` given, bad shapes, or no usable quote.

    Notes
    -----
    Objective :math:`\min_\Theta \tfrac12\sum_i\omega_i e_i(\Theta)^2` over the box, :math:`e_i` per
    ``objective``; Jacobian from :func:`~cryptoderiv.pricing.heston.price_and_gradient` (Cui et al. 2017,
    eqs. (22)-(30)); Levenberg-Marquardt as in Cui et al. (2017), Section 4. Quotes with a non-finite market
    price or implied volatility are dropped (their outputs are NaN).

    References
    ----------
    Cui, del Baño Rollin and Germano (2017); Madsen, Nielsen and Tingleff (2004), Algorithm 3.16.
    """
    start = time.perf_counter()
    if objective not in _OBJECTIVES:
        raise ValueError(f"objective must be one of {_OBJECTIVES}, got {objective!r}")
    if price is None and iv is None:
        raise ValueError("give market prices (price=) or implied volatilities (iv=)")
    kinds = np.asarray(kind)
    kinds, k_, tt, fwd, df = np.broadcast_arrays(kinds, *(np.asarray(x, dtype=np.float64) for x in
                                                          (strike, t, forward, discount_factor)))  # fmt: skip
    shape = k_.shape
    kinds, k_, tt, fwd, df = (np.ravel(x) for x in (kinds, k_, tt, fwd, df))
    n_all = k_.shape[0]
    if price is not None:
        mkt_price = np.broadcast_to(np.asarray(price, dtype=np.float64), shape).ravel().copy()
        if iv is not None:
            mkt_iv = np.broadcast_to(np.asarray(iv, dtype=np.float64), shape).ravel().copy()
        else:
            mkt_iv = np.asarray(implied_vol.implied_vol(kinds, mkt_price, fwd, k_, tt, df), dtype=np.float64)
    else:
        mkt_iv = np.broadcast_to(np.asarray(iv, dtype=np.float64), shape).ravel().copy()
        mkt_price = np.asarray(black76.price(kinds, fwd, k_, tt, mkt_iv, df), dtype=np.float64)
    wts = (np.ones(n_all) if weights is None
           else np.broadcast_to(np.asarray(weights, dtype=np.float64), shape).ravel().copy())  # fmt: skip
    use = np.isfinite(mkt_price) & np.isfinite(mkt_iv) & (mkt_iv > 0) & (tt > 0) & np.isfinite(wts) & (wts >= 0)
    if np.count_nonzero(use) < 5:
        raise ValueError(f"need at least 5 usable quotes, got {np.count_nonzero(use)}")
    sel = np.nonzero(use)[0]
    kinds_u, k_u, t_u, f_u, df_u = kinds[sel], k_[sel], tt[sel], fwd[sel], df[sel]
    p_mkt, iv_mkt, sqrt_w = mkt_price[sel], mkt_iv[sel], np.sqrt(wts[sel])

    vega = np.asarray(black76.greeks(kinds_u, f_u, k_u, t_u, iv_mkt, df_u)["vega"], dtype=np.float64)
    atm_vega = df_u * f_u * np.sqrt(t_u) / math.sqrt(2.0 * math.pi)
    vega_floor = 0.01 * atm_vega
    vega_used = np.maximum(vega, vega_floor)

    bounds = bounds or HestonBounds()
    if isinstance(initial, HestonCalibrationResult):
        initial = initial.params
    if initial is None:
        initial = _initial_guess(t_u, np.log(k_u / f_u), iv_mkt)
    pricer = SurfacePricer(kinds_u, f_u, k_u, t_u, df_u)

    def residuals(x: FloatArray) -> tuple[FloatArray, FloatArray]:
        model, grad = pricer.price_and_gradient(HestonParams.from_array(x))
        if objective == "price":
            return sqrt_w * (model - p_mkt), sqrt_w[:, None] * grad
        if objective == "price_vega":
            return sqrt_w * (model - p_mkt) / vega_used, (sqrt_w / vega_used)[:, None] * grad
        vol = np.asarray(implied_vol.implied_vol(kinds_u, model, f_u, k_u, t_u, df_u), dtype=np.float64)
        ok = np.isfinite(vol)
        res = np.where(ok, vol - iv_mkt, (model - p_mkt) / vega_used)
        model_vega = np.full_like(vol, np.nan)
        if np.any(ok):
            model_vega[ok] = np.asarray(black76.greeks(kinds_u[ok], f_u[ok], k_u[ok], t_u[ok], vol[ok],
                                                       df_u[ok])["vega"], dtype=np.float64)  # fmt: skip
        scale = np.where(ok, 1.0 / np.maximum(np.nan_to_num(model_vega, nan=1.0), vega_floor), 1.0 / vega_used)
        return sqrt_w * res, (sqrt_w * scale)[:, None] * grad

    outcome = _levenberg_marquardt(residuals, initial.to_array(), bounds, max_iterations, ftol, xtol, gtol)
    params = HestonParams.from_array(outcome.x)
    model_u = pricer.price(params)
    iv_model_u = np.asarray(implied_vol.implied_vol(kinds_u, model_u, f_u, k_u, t_u, df_u), dtype=np.float64)

    model_price = np.full(n_all, np.nan)
    model_iv = np.full(n_all, np.nan)
    model_price[sel] = model_u
    model_iv[sel] = iv_model_u
    iv_err = iv_model_u - iv_mkt
    iv_err = iv_err[np.isfinite(iv_err)]
    price_err = model_u - p_mkt
    return HestonCalibrationResult(
        params=params,
        initial=initial,
        objective=objective,
        rmse_iv=float(np.sqrt(np.mean(iv_err**2))) if iv_err.size else math.nan,
        rmse_price=float(np.sqrt(np.mean(price_err**2))),
        max_abs_iv_error=float(np.max(np.abs(iv_err))) if iv_err.size else math.nan,
        cost=outcome.cost,
        iterations=outcome.iterations,
        n_evaluations=outcome.n_evaluations,
        wall_time=time.perf_counter() - start,
        success=outcome.success,
        message=outcome.message,
        n_options=int(sel.size),
        model_price=model_price.reshape(shape),
        model_iv=model_iv.reshape(shape),
        market_price=mkt_price.reshape(shape),
        market_iv=mkt_iv.reshape(shape),
    )
