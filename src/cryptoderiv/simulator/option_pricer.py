"""The option pricer the simulator quotes with: one swappable pair of functions.

The simulator prices every option with a Heston model and reports Black-76 implied volatilities and greeks,
as Deribit and Bybit do. The two numerical kernels come from the project's pricing package when it is
installed (``cryptoderiv.pricing.heston.price`` and ``cryptoderiv.pricing.implied_vol.implied_vol``); until
then, or when those fail a smoke check, the reference implementations in this module are used. Either way
:class:`OptionPricer` is the one object the market holds, so swapping the pricer is one argument.

Units: time in ACT/365 years, volatility and variance annual decimals, rates continuously compounded,
prices in the currency of ``spot``/``forward`` (USD here).
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
HestonPriceFn = Callable[..., Any]
ImpliedVolFn = Callable[..., Any]

_SQRT_2PI = float(np.sqrt(2.0 * np.pi))


@functools.lru_cache(maxsize=4)
def _gauss_legendre(n: int) -> tuple[FloatArray, FloatArray]:
    nodes, weights = np.polynomial.legendre.leggauss(n)
    return np.asarray(nodes, dtype=np.float64), np.asarray(weights, dtype=np.float64)


def _npdf(x: FloatArray) -> FloatArray:
    return np.asarray(np.exp(-0.5 * x * x) / _SQRT_2PI, dtype=np.float64)


def black76_price(
    kind: str, forward: ArrayLike, strike: ArrayLike, t: ArrayLike, vol: ArrayLike, discount_factor: float = 1.0
) -> FloatArray:
    """Black-76 price of a European option on a forward.

    Parameters
    ----------
    kind : {"call", "put"}
        Option type.
    forward, strike : array_like
        Forward and strike, same currency.
    t : array_like
        Time to expiry in ACT/365 years (> 0).
    vol : array_like
        Annual volatility, decimal.
    discount_factor : float, default 1.0
        Discount factor to expiry.

    Returns
    -------
    numpy.ndarray
        Price in the currency of ``forward``.

    Notes
    -----
    :math:`C = D\\,[F N(d_1) - K N(d_2)]`, :math:`d_{1,2} = (\\ln(F/K) \\pm \\sigma^2 t/2)/(\\sigma\\sqrt t)`,
    and the put by parity.
    """
    f, k, tt, s = (np.asarray(a, dtype=np.float64) for a in (forward, strike, t, vol))
    sd = s * np.sqrt(tt)
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = (np.log(f / k) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    out = f * ndtr(d1) - k * ndtr(d2) if kind == "call" else k * ndtr(-d2) - f * ndtr(-d1)
    return np.asarray(discount_factor * out, dtype=np.float64)


@dataclass(frozen=True)
class Black76Greeks:
    """Black-76 greeks in exchange units.

    Attributes
    ----------
    delta : numpy.ndarray
        dV/dF, per unit of underlying (forward delta, not premium-adjusted).
    gamma : numpy.ndarray
        d2V/dF2, per unit of underlying per currency unit.
    vega : numpy.ndarray
        dV/dsigma per 1 volatility point (0.01), in currency units.
    theta : numpy.ndarray
        dV/dt per calendar day (ACT/365), in currency units.
    """

    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray


def black76_greeks(kind: str, forward: ArrayLike, strike: ArrayLike, t: ArrayLike, vol: ArrayLike) -> Black76Greeks:
    """Greeks of an undiscounted Black-76 option, in the units Deribit and Bybit report.

    Parameters
    ----------
    kind : {"call", "put"}
        Option type.
    forward, strike : array_like
        Forward and strike.
    t : array_like
        Time to expiry in ACT/365 years.
    vol : array_like
        Annual volatility, decimal.

    Returns
    -------
    Black76Greeks
        Delta, gamma, vega per vol point and theta per day.
    """
    f, k, tt, s = (np.asarray(a, dtype=np.float64) for a in (forward, strike, t, vol))
    sqrt_t = np.sqrt(tt)
    sd = s * sqrt_t
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = (np.log(f / k) + 0.5 * sd * sd) / sd
        pdf = _npdf(d1)
        delta = ndtr(d1) if kind == "call" else ndtr(d1) - 1.0
        gamma = pdf / (f * sd)
        vega = f * pdf * sqrt_t / 100.0
        theta = -f * pdf * s / (2.0 * sqrt_t) / 365.0
    return Black76Greeks(
        delta=np.asarray(delta, dtype=np.float64),
        gamma=np.asarray(gamma, dtype=np.float64),
        vega=np.asarray(vega, dtype=np.float64),
        theta=np.asarray(theta, dtype=np.float64),
    )


def reference_implied_vol(
    kind: str, price: ArrayLike, forward: ArrayLike, strike: ArrayLike, t: ArrayLike, discount_factor: float = 1.0
) -> FloatArray:
    """Black-76 implied volatility by vectorised bisection (reference implementation).

    Parameters
    ----------
    kind : {"call", "put"}
        Option type.
    price : array_like
        Option price (discounted), currency of ``forward``.
    forward, strike : array_like
        Forward and strike.
    t : array_like
        Time to expiry in ACT/365 years.
    discount_factor : float, default 1.0
        Discount factor to expiry.

    Returns
    -------
    numpy.ndarray
        Annual implied volatility (decimal); NaN where the price is outside the no-arbitrage bounds.
    """
    p, f, k, tt = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (price, forward, strike, t)))
    undiscounted = p / discount_factor
    intrinsic = np.maximum(f - k, 0.0) if kind == "call" else np.maximum(k - f, 0.0)
    upper = f if kind == "call" else k
    valid = (undiscounted > intrinsic) & (undiscounted < upper) & (tt > 0)
    lo = np.full(p.shape, 1e-6)
    hi = np.full(p.shape, 10.0)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        too_high = black76_price(kind, f, k, tt, mid) > undiscounted
        hi = np.where(too_high, mid, hi)
        lo = np.where(too_high, lo, mid)
    out = 0.5 * (lo + hi)
    return np.asarray(np.where(valid, out, np.nan), dtype=np.float64)


def reference_heston_price(
    kind: str,
    spot: ArrayLike,
    strike: ArrayLike,
    t: float,
    rate: float,
    div_yield: float,
    v0: float,
    kappa: float,
    theta: float,
    sigma: float,
    rho: float,
) -> FloatArray:
    """Heston price of European options of one maturity (reference implementation).

    Parameters
    ----------
    kind : {"call", "put"}
        Option type.
    spot : array_like
        Spot (or forward, with ``rate = div_yield``) price.
    strike : array_like
        Strikes; broadcast against ``spot``.
    t : float
        Time to expiry in ACT/365 years.
    rate, div_yield : float
        Continuously compounded rate and dividend (or foreign) yield.
    v0, kappa, theta, sigma, rho : float
        Heston initial variance, mean-reversion speed, long-run variance, vol of variance, correlation.

    Returns
    -------
    numpy.ndarray
        Prices in the currency of ``spot``.

    Notes
    -----
    Lewis (2000) single-integral form,
    :math:`C = S e^{-qT} - \\frac{\\sqrt{SK} e^{-(r+q)T/2}}{\\pi}\\int_0^\\infty
    \\Re[e^{iux}\\varphi(u - i/2)]\\,\\frac{du}{u^2 + 1/4}` with :math:`x = \\ln(S/K) + (r-q)T` and the
    characteristic function of the de-drifted log return in the "little trap" form of Albrecher et al.
    (2007). The integral is truncated where :math:`|\\varphi|` has decayed below :math:`e^{-40}` and done
    with 384-point Gauss-Legendre quadrature.

    References
    ----------
    Heston, S. (1993). A closed-form solution for options with stochastic volatility. RFS 6(2).
    Lewis, A. (2000). Option Valuation under Stochastic Volatility, ch. 2.
    Albrecher, H. et al. (2007). The little Heston trap. Wilmott Magazine.
    """
    s = np.asarray(spot, dtype=np.float64)
    k = np.asarray(strike, dtype=np.float64)
    s, k = np.broadcast_arrays(s, k)
    var_floor = max(min(v0, theta), 0.01)
    upper = float(np.sqrt(80.0 / (var_floor * t)))
    nodes, weights = _gauss_legendre(384)
    u = 0.5 * upper * (nodes + 1.0)
    w = 0.5 * upper * weights
    z = u - 0.5j
    xi = kappa - sigma * rho * 1j * z
    d = np.sqrt(xi * xi + sigma * sigma * (z * z + 1j * z))
    g2 = (xi - d) / (xi + d)
    exp_dt = np.exp(-d * t)
    c_term = kappa * theta / sigma**2 * ((xi - d) * t - 2.0 * np.log((1.0 - g2 * exp_dt) / (1.0 - g2)))
    d_term = (xi - d) / sigma**2 * (1.0 - exp_dt) / (1.0 - g2 * exp_dt)
    phi = np.exp(c_term + d_term * v0)
    x = np.log(s / k) + (rate - div_yield) * t
    integrand = np.real(np.exp(1j * np.multiply.outer(x, u)) * phi) / (u * u + 0.25)
    integral = integrand @ w
    call = s * np.exp(-div_yield * t) - np.sqrt(s * k) * np.exp(-0.5 * (rate + div_yield) * t) / np.pi * integral
    if kind == "call":
        return np.asarray(call, dtype=np.float64)
    return np.asarray(call - s * np.exp(-div_yield * t) + k * np.exp(-rate * t), dtype=np.float64)


@dataclass(frozen=True)
class OptionPricer:
    """The pair of kernels the simulator prices with.

    Attributes
    ----------
    heston_price : callable
        ``(kind, spot, strike, t, rate, div_yield, v0, kappa, theta, sigma, rho) -> prices``.
    implied_vol : callable
        ``(kind, price, forward, strike, t, discount_factor=1.0) -> vols``.
    name : str
        Where the kernels come from, for logs and ground truth.
    """

    heston_price: HestonPriceFn
    implied_vol: ImpliedVolFn
    name: str


REFERENCE_PRICER = OptionPricer(reference_heston_price, reference_implied_vol, "simulator-reference")


def _load(module: str, attr: str) -> Callable[..., Any] | None:
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None


def _smoke_check(pricer: OptionPricer) -> str | None:
    """Compare a candidate pricer with the reference on a small chain; return a reason if it disagrees."""
    strikes = np.array([80_000.0, 100_000.0, 120_000.0])
    args = (100_000.0, strikes, 0.25, 0.0, 0.0, 0.36, 2.0, 0.36, 0.8, -0.3)
    try:
        got = np.asarray(pricer.heston_price("call", *args), dtype=np.float64)
        ref = reference_heston_price("call", *args)
        if got.shape != ref.shape or not np.allclose(got, ref, rtol=2e-3, atol=1.0):
            return f"heston_price disagrees with the reference: {got} vs {ref}"
        vols = np.asarray(pricer.implied_vol("call", ref, 100_000.0, strikes, 0.25), dtype=np.float64)
        ref_vols = reference_implied_vol("call", ref, 100_000.0, strikes, 0.25)
        if vols.shape != ref_vols.shape or not np.allclose(vols, ref_vols, atol=1e-5):
            return f"implied_vol disagrees with the reference: {vols} vs {ref_vols}"
    except Exception as exc:  # noqa: BLE001 - any failure of a foreign kernel means "do not use it"
        return f"{type(exc).__name__}: {exc}"
    return None


@functools.lru_cache(maxsize=1)
def default_pricer() -> OptionPricer:
    """The project's pricing kernels when installed and sane, else the reference ones.

    Returns
    -------
    OptionPricer
        ``cryptoderiv.pricing.heston.price`` and ``cryptoderiv.pricing.implied_vol.implied_vol`` when both
        import and agree with the reference on a smoke chain; otherwise :data:`REFERENCE_PRICER`.
    """
    heston = _load("cryptoderiv.pricing.heston", "price")
    implied = _load("cryptoderiv.pricing.implied_vol", "implied_vol")
    if heston is None and implied is None:
        logger.info("cryptoderiv.pricing kernels not installed; using the simulator's reference pricer")
        return REFERENCE_PRICER
    candidate = OptionPricer(
        heston or reference_heston_price,
        implied or reference_implied_vol,
        "cryptoderiv.pricing" if heston and implied else "cryptoderiv.pricing+simulator-reference",
    )
    reason = _smoke_check(candidate)
    if reason is not None:
        logger.warning("cryptoderiv.pricing kernels rejected (%s); using the simulator's reference pricer", reason)
        return REFERENCE_PRICER
    return candidate
