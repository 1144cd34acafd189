"""Black-Scholes-Merton: European options on a spot asset with a continuous yield.

All functions broadcast over NumPy arrays (float64 in and out) and run compiled loops (numba; multi-threaded
above 20,000 options).  Invalid inputs give NaN, never an exception; only arguments that cannot be read
(unknown ``kind``, shapes that do not broadcast, non-numeric values) raise ``ValueError`` naming the argument.

Units: ``t`` in years (ACT/365), ``rate`` and ``div_yield`` continuously compounded annual decimals, ``vol`` an
annual decimal.  For crypto, ``div_yield`` is the foreign (coin) rate or any carry such as the
perpetual-funding implied basis; the forward is ``spot * exp((rate - div_yield) t)``.
"""

from __future__ import annotations

from typing import Any

from cryptoderiv.pricing._black_core import GREEK_ROWS, finish, run_black_scholes

__all__ = ["GREEK_NAMES", "greeks", "price", "price_and_greeks"]

#: keys of the mapping returned by :func:`greeks`
GREEK_NAMES = GREEK_ROWS[1:]


def price(
    kind: Any,
    spot: Any,
    strike: Any,
    t: Any,
    rate: Any,
    vol: Any,
    div_yield: Any = 0.0,
) -> Any:
    r"""Black-Scholes-Merton price of a European call or put.

    Parameters
    ----------
    kind : str or array_like
        ``"call"`` or ``"put"`` (also ``"c"``/``"p"``, any case), an array of them, or +1/-1.
    spot : array_like
        Spot price ``S > 0``.
    strike : array_like
        Strike ``K > 0``.
    t : array_like
        Time to expiry in years (ACT/365), ``t >= 0``.
    rate : array_like
        Continuously compounded risk-free rate ``r`` (any finite value).
    vol : array_like
        Volatility, annual decimal, ``vol >= 0``.
    div_yield : array_like, default 0.0
        Continuously compounded dividend (or foreign-currency) yield ``q``.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Prices of the broadcast shape of the inputs (a NumPy float64 scalar when every input is a scalar);
        NaN where an input is invalid.

    Notes
    -----
    .. math::

        C = S e^{-qt}\Phi(d_1) - K e^{-rt}\Phi(d_2), \quad P = K e^{-rt}\Phi(-d_2) - S e^{-qt}\Phi(-d_1),

        d_{1,2} = \frac{\ln(S/K) + (r - q)t}{\sigma\sqrt t} \pm \frac{\sigma\sqrt t}{2}.

    Evaluated as the Black-76 price on ``F = S e^{(r-q)t}`` with ``D = e^{-rt}``, but with ``ln(F/K)`` and
    ``D sqrt(FK) = sqrt(SK) e^{-(r+q)t/2}`` formed directly, and with the cancellation-free normalised
    Black function of :mod:`cryptoderiv.pricing.black76` (full relative accuracy far out of the money).

    References
    ----------
    F. Black, M. Scholes, "The pricing of options and corporate liabilities", J. Political Economy 81
    (1973).  R. C. Merton, "Theory of rational option pricing", Bell J. Econ. 4 (1973).
    """
    shape, rows = run_black_scholes(kind, spot, strike, t, rate, vol, div_yield, greeks=False)
    return finish(rows[0], shape)


def price_and_greeks(
    kind: Any,
    spot: Any,
    strike: Any,
    t: Any,
    rate: Any,
    vol: Any,
    div_yield: Any = 0.0,
) -> dict[str, Any]:
    """Price and all greeks in one pass: mapping with ``price`` and the keys of :func:`greeks`.

    Parameters and conventions as in :func:`price` and :func:`greeks`.
    """
    shape, rows = run_black_scholes(kind, spot, strike, t, rate, vol, div_yield, greeks=True)
    return {name: finish(rows[i], shape) for i, name in enumerate(GREEK_ROWS)}


def greeks(
    kind: Any,
    spot: Any,
    strike: Any,
    t: Any,
    rate: Any,
    vol: Any,
    div_yield: Any = 0.0,
) -> dict[str, Any]:
    r"""Analytic Black-Scholes-Merton greeks (with respect to spot).

    Parameters
    ----------
    kind, spot, strike, t, rate, vol, div_yield
        As in :func:`price`.

    Returns
    -------
    dict of str to numpy.ndarray
        ``delta`` (dV/dS), ``gamma`` (d2V/dS2), ``vega`` (dV/dvol per 1.00 of vol), ``theta`` (dV/d(calendar
        time) per year, i.e. ``-dV/dt`` with ``S, r, q, vol`` fixed), ``rho`` (dV/dr per 1.00 of rate, ``q``
        fixed), ``vanna`` (d2V/dS dvol), ``volga`` (d2V/dvol2); each of the broadcast shape.  NaN where
        :func:`price` is NaN.

    Notes
    -----
    With ``theta_k = +1`` (call) / ``-1`` (put) and ``phi`` the standard normal density:

    .. math::

        \Delta = \theta_k e^{-qt}\Phi(\theta_k d_1), \quad \Gamma = \frac{e^{-qt}\phi(d_1)}{S\sigma\sqrt t},
        \quad \mathcal V = S e^{-qt}\phi(d_1)\sqrt t,

        \Theta = -\frac{S e^{-qt}\phi(d_1)\sigma}{2\sqrt t} - \theta_k r K e^{-rt}\Phi(\theta_k d_2)
                 + \theta_k q S e^{-qt}\Phi(\theta_k d_1), \quad
        \rho = \theta_k K t e^{-rt}\Phi(\theta_k d_2),

        \text{vanna} = -e^{-qt}\phi(d_1)\frac{d_2}{\sigma}, \quad
        \text{volga} = \mathcal V\frac{d_1 d_2}{\sigma}.

    The normal distribution function is evaluated through the scaled complementary error function, so deep
    out-of-the-money deltas and rhos keep their relative accuracy instead of rounding to 0.
    At ``t = 0`` or ``vol = 0`` the greeks are the limits for ``vol -> 0``: delta is the discounted step
    (1/2 exactly at the money), gamma, vega, vanna and volga are 0.

    References
    ----------
    E. G. Haug, The Complete Guide to Option Pricing Formulas, 2nd ed., McGraw-Hill (2007), ch. 2.
    """
    shape, rows = run_black_scholes(kind, spot, strike, t, rate, vol, div_yield, greeks=True)
    return {name: finish(rows[i], shape) for i, name in enumerate(GREEK_ROWS) if name != "price"}
