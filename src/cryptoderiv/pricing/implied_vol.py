r"""Black (lognormal) implied volatility at machine precision.

Functions broadcast over NumPy arrays (float64 in and out) and run a compiled loop (numba, in
:mod:`cryptoderiv.pricing._black_core`; multi-threaded above 20,000 options).  Where no volatility exists the
result is NaN and a reason code says why:

>>> res = implied_vol_with_reason("call", [10.0, 4.0, 150.0], 100.0, 95.0, 0.5)
>>> [IVReason(r).name for r in res.reason]
['OK', 'BELOW_INTRINSIC', 'ABOVE_UPPER_BOUND']

Algorithm
---------
The price is normalised, ``beta = V / (D sqrt(F K))``, and every option is mapped to an out-of-the-money call
with ``x = -|ln(F/K)| <= 0`` (in-the-money options lose their intrinsic value ``D |F - K|``, subtracted in price
space).  With ``b(x, s)`` the normalised Black function of :mod:`cryptoderiv.pricing.black76` and
``s = sigma sqrt(t)`` the problem is ``b(x, s) = beta``, ``0 < beta < e^{x/2}``.

*Initial guess* (four branches around the inflection point ``s_c = sqrt(2|x|)`` of ``s -> b``, the structure
of Jaeckel (2015)).  With ``w = sqrt|x|``: ``b_c = e^{x/2} (1 - erfcx(w)) / 2`` and ``b'(s_c) = e^{x/2}/sqrt(2pi)``
are closed-form; the tangent at ``s_c`` meets 0 and ``e^{x/2}`` at ``s_l = sqrt2 w - sqrt(pi/2) (1 - erfcx w)``
and ``s_u = sqrt2 w + sqrt(pi/2) (1 + erfcx w)``.  ``b_l = b(x, s_l)`` and ``e^{x/2} - b(x, s_u)`` depend on ``x``
only and are tabulated (piecewise polynomials in ``w``, built at import, exact evaluation beyond
``|x| = 256``).  Between ``b_l``, ``b_c`` and ``b_u`` the inverse ``beta -> s`` is interpolated by a
Delbourgo-Gregory rational cubic (values and slopes ``1/b'`` at the ends, zero second derivative at ``b_c``).
Below ``b_l`` the interpolated quantity is ``f_l(s) = 2 pi |x| / (3 sqrt 3) Phi(-|x|/(sqrt 3 s))^3``, which
matches ``b`` to leading order as ``s -> 0`` and inverts in closed form (in log space, so prices far below
1e-300 work); above ``b_u`` it is ``f_u(s) = Phi(-s/2)``, the leading-order complement as ``s -> infinity``.
The control parameter matches the exact second derivative at the inner end and is bounded below for
monotonicity.  Relative error of the guess: below 0.5 % in the central branches, up to ~7 % in the lower one.

*Refinement*: order-6 steps.  An objective ``g`` is chosen per branch so that it is nearly linear in ``s``:
``ln b(s) - ln beta`` below ``b_l`` (``ln b`` from the scaled form ``b = m e^{-E}``, no underflow),
``b(s) - beta`` in the middle, ``ln(e^{x/2} - beta) - ln(e^{x/2} - b(s))`` above ``b_u`` (the complement is a
sum of two tails, no cancellation).  The derivatives of ``b`` are analytic to any order: with
``b' = e^{-phi}/sqrt(2 pi)``, ``phi = (x^2/s^2 + s^2/4)/2`` and ``q = -phi' = x^2/s^3 - s/4``,
``b''/b' = q``, ``b'''/b' = q' + q^2``, ``b''''/b' = q'' + 3 q q' + q^3``, ...; those of ``g`` follow by Faa di
Bruno.  The step solves the Taylor expansion of ``g(s + d) = 0`` by series reversion up to ``nu^5``
(``nu = -g/g'``), so the error after a step is ``O(nu^6)``.  Iteration stops when a step is below ``1e-2 s``
(central branches) or ``1e-3 s`` (outer branches), at most 4 steps.  On the benchmark million
(``benchmarks/bench_implied_vol.py``) 1.14 steps are taken on average: one in the central branches (84 % of
options), mostly two in the lower branch.

Accuracy
--------
The relative condition number of the implied volatility with respect to the price is
``kappa = V / (sigma dV/dsigma)`` (:func:`vol_condition_number`): a price known to relative precision ``eps``
fixes ``sigma`` only to ``kappa eps``.  The solver's relative error is below ``16 kappa eps`` (``eps = 2.2e-16``)
wherever the price is a normal float64 (``tests/unit/pricing/test_implied_vol.py``: a million random options,
60-digit mpmath prices, prices down to 1e-300, one-day expiries, volatilities up to 5); on well-conditioned
options (``kappa <= 100``) the median error is 2e-16 and the 99th percentile 1.3e-15.  Deep in-the-money
options whose time value is below the rounding of their price have ``kappa -> infinity``: their volatility is
not determined by a float64 price (reason ``ZERO_TIME_VALUE`` when nothing is left).

References
----------
P. Jaeckel, "Let's Be Rational", Wilmott (2015) 40-53.  R. Delbourgo, J. A. Gregory, "Shape preserving
piecewise rational interpolation", SIAM J. Sci. Stat. Comput. 6 (1985) 967-976.  A. S. Householder, The
Numerical Treatment of a Single Nonlinear Equation, McGraw-Hill (1970) (high-order one-point iterations).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, NamedTuple

import numpy as np

from cryptoderiv.pricing._black_core import (
    PARALLEL_THRESHOLD,
    broadcast_inputs,
    finish,
    iv_loop_parallel,
    iv_loop_serial,
    kind_to_theta,
    run_black76,
)

__all__ = [
    "IVReason",
    "ImpliedVolResult",
    "implied_vol",
    "implied_vol_black_scholes",
    "implied_vol_with_reason",
    "vol_condition_number",
]



class IVReason(IntEnum):
    """Why an implied volatility is (or is not) available; stored as ``int8`` codes."""

    OK = 0
    """Solved."""
    ZERO_TIME_VALUE = 1
    """Price equals the (discounted) intrinsic value exactly: the volatility is 0.0."""
    BELOW_INTRINSIC = 2
    """Price below the intrinsic value ``D max(theta (F - K), 0)``: no volatility; NaN."""
    ABOVE_UPPER_BOUND = 3
    """Price at or above the limit for infinite volatility (``D F`` for a call, ``D K`` for a put); NaN."""
    INVALID_INPUT = 4
    """Non-finite price, or forward, strike, time or discount factor not finite and positive; NaN."""
    FAILED = 5
    """The iteration left the domain (not observed in testing); NaN."""


class ImpliedVolResult(NamedTuple):
    """Implied volatilities with the reason for every entry (see :class:`IVReason`)."""

    vol: Any
    """Volatility (annual decimal), NaN where there is none; shape of the broadcast inputs."""
    reason: Any
    """``int8`` :class:`IVReason` codes, same shape as ``vol``."""

    @property
    def ok(self) -> Any:
        """Boolean mask of the entries that were solved (``OK`` or ``ZERO_TIME_VALUE``)."""
        r = np.asarray(self.reason)
        return (r == IVReason.OK) | (r == IVReason.ZERO_TIME_VALUE)

    def counts(self) -> dict[str, int]:
        """Number of entries per reason name (only the reasons that occur)."""
        codes, n = np.unique(np.asarray(self.reason), return_counts=True)
        return {IVReason(int(c)).name: int(k) for c, k in zip(codes, n, strict=True)}


# ---------------------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------------------


def implied_vol_with_reason(
    kind: Any,
    price: Any,
    forward: Any,
    strike: Any,
    t: Any,
    discount_factor: Any = 1.0,
) -> ImpliedVolResult:
    r"""Black-76 implied volatility with a reason code for every entry.

    Parameters
    ----------
    kind : str or array_like
        ``"call"`` or ``"put"`` (also ``"c"``/``"p"``, any case), an array of them, or +1/-1.
    price : array_like
        Option price (same currency as ``forward`` and ``strike``, discounted with ``discount_factor``).
    forward : array_like
        Forward ``F > 0`` for the option's expiry.
    strike : array_like
        Strike ``K > 0``.
    t : array_like
        Time to expiry in years (ACT/365), ``t > 0``.
    discount_factor : array_like, default 1.0
        Discount factor ``D > 0`` to the payment date.

    Returns
    -------
    ImpliedVolResult
        ``vol``: volatility (annual decimal) of the broadcast shape, NaN where none exists; ``reason``:
        ``int8`` :class:`IVReason` codes of the same shape (``OK``, ``ZERO_TIME_VALUE`` with ``vol = 0``,
        ``BELOW_INTRINSIC``, ``ABOVE_UPPER_BOUND``, ``INVALID_INPUT``, ``FAILED``).

    Raises
    ------
    ValueError
        Unknown ``kind``; arguments that do not broadcast or are not numeric (the message names them).

    Notes
    -----
    Solves ``black76.price(kind, F, K, t, sigma, D) = price`` for ``sigma``.  Bounds, with
    ``theta = +1`` for calls and ``-1`` for puts:

    .. math:: D \max(\theta (F - K), 0) \le V < D F \;(\text{call}), \quad < D K \;(\text{put}).

    See the module docstring for the algorithm (rational-cubic initial guess in four branches, then order-6
    steps, 1.14 on average) and for the accuracy statement.

    References
    ----------
    P. Jaeckel, "Let's Be Rational", Wilmott (2015) 40-53.
    """
    theta = kind_to_theta(kind)
    shape, (th, p, f, k, tt, d) = broadcast_inputs(
        kind=theta, price=price, forward=forward, strike=strike, t=t, discount_factor=discount_factor
    )
    n = int(np.prod(shape))
    vol = np.empty(n)
    reason = np.empty(n, dtype=np.int8)
    loop = iv_loop_parallel if n >= PARALLEL_THRESHOLD else iv_loop_serial
    loop(th, p, f, k, tt, d, vol, reason)
    out_reason = reason.reshape(shape)
    return ImpliedVolResult(finish(vol, shape), out_reason[()] if out_reason.ndim == 0 else out_reason)


def implied_vol(
    kind: Any,
    price: Any,
    forward: Any,
    strike: Any,
    t: Any,
    discount_factor: Any = 1.0,
) -> Any:
    """Black-76 implied volatility; NaN where none exists (see :func:`implied_vol_with_reason` for why).

    Parameters
    ----------
    kind, price, forward, strike, t, discount_factor
        As in :func:`implied_vol_with_reason`.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Volatility (annual decimal) of the broadcast shape of the inputs.

    Notes
    -----
    Same solver as :func:`implied_vol_with_reason`; the relative error is a small multiple of
    ``vol_condition_number * 2.2e-16``.

    References
    ----------
    P. Jaeckel, "Let's Be Rational", Wilmott (2015) 40-53.
    """
    return implied_vol_with_reason(kind, price, forward, strike, t, discount_factor).vol


def implied_vol_black_scholes(
    kind: Any,
    price: Any,
    spot: Any,
    strike: Any,
    t: Any,
    rate: Any,
    div_yield: Any = 0.0,
) -> ImpliedVolResult:
    r"""Black-Scholes-Merton implied volatility (spot, rate and yield), with reasons.

    Parameters
    ----------
    kind, price, strike, t
        As in :func:`implied_vol_with_reason`.
    spot : array_like
        Spot price ``S > 0``.
    rate, div_yield : array_like
        Continuously compounded rate ``r`` and yield ``q``.

    Returns
    -------
    ImpliedVolResult
        As :func:`implied_vol_with_reason`.

    Notes
    -----
    Solved as Black-76 with ``F = S e^{(r-q)t}`` and ``D = e^{-rt}``.

    References
    ----------
    P. Jaeckel, "Let's Be Rational", Wilmott (2015) 40-53.
    """
    broadcast_inputs(spot=spot, t=t, rate=rate, div_yield=div_yield)  # named errors for bad arguments
    sp, tt, r, q = (np.asarray(a, dtype=np.float64) for a in (spot, t, rate, div_yield))
    with np.errstate(all="ignore"):
        forward = sp * np.exp((r - q) * tt)
        df = np.exp(-r * tt)
    return implied_vol_with_reason(kind, price, forward, strike, t, df)


def vol_condition_number(
    kind: Any,
    forward: Any,
    strike: Any,
    t: Any,
    vol: Any,
    discount_factor: Any = 1.0,
) -> Any:
    r"""Relative condition number of the implied volatility with respect to the price, ``V / (sigma vega)``.

    Parameters
    ----------
    kind, forward, strike, t, vol, discount_factor
        As in :func:`cryptoderiv.pricing.black76.price`.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``kappa = V / (sigma dV/dsigma)``: a relative change ``eps`` of the price moves the implied volatility
        by ``kappa eps`` (relative).  Near 1 at the money, about ``s^2/x^2`` (small) far out of the money,
        large for deep in-the-money options (the intrinsic value carries no volatility information) and
        ``+inf`` where the vega underflows.

    Notes
    -----
    .. math:: \kappa = \frac{\partial \ln \sigma}{\partial \ln V} = \frac{V}{\sigma\,\partial V/\partial\sigma}

    References
    ----------
    N. J. Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM (2002), section 1.6.
    """
    shape, rows = run_black76(kind, forward, strike, t, vol, discount_factor, greeks=True)
    sigma = np.broadcast_to(np.asarray(vol, dtype=np.float64), shape).reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        kappa = rows[0] / (sigma * rows[3])
    return finish(np.where(rows[3] > 0.0, kappa, np.inf), shape)
