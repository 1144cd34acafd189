"""Black-76: European options on a forward (futures, or the per-expiry forward of a crypto option chain).

All functions broadcast over NumPy arrays (float64 in and out) and run compiled loops (numba; multi-threaded
above 20,000 options).  Invalid inputs give NaN, never an exception; only arguments that cannot be read
(unknown ``kind``, shapes that do not broadcast, non-numeric values) raise ``ValueError`` naming the argument.

Units: ``t`` in years (ACT/365), ``vol`` an annual decimal (0.5 = 50 %), ``discount_factor`` the price today
of one unit paid at expiry (``exp(-r t)`` for a continuously compounded rate ``r``).  For coin-settled
(inverse) options use :mod:`cryptoderiv.pricing.inverse`.
"""

from __future__ import annotations

from typing import Any

from cryptoderiv.pricing._black_core import GREEK_ROWS, finish, run_black76

__all__ = ["GREEK_NAMES", "greeks", "price", "price_and_greeks"]

#: keys of the mapping returned by :func:`greeks`
GREEK_NAMES = GREEK_ROWS[1:]


def price(
    kind: Any,
    forward: Any,
    strike: Any,
    t: Any,
    vol: Any,
    discount_factor: Any = 1.0,
) -> Any:
    r"""Black-76 price of a European call or put on a forward.

    Parameters
    ----------
    kind : str or array_like
        ``"call"`` or ``"put"`` (also ``"c"``/``"p"``, any case), an array of them, or +1/-1.
    forward : array_like
        Forward price ``F`` of the underlying for the option's expiry, ``F > 0``.
    strike : array_like
        Strike ``K > 0``.
    t : array_like
        Time to expiry in years (ACT/365), ``t >= 0``.
    vol : array_like
        Black (lognormal) volatility, annual decimal, ``vol >= 0``.
    discount_factor : array_like, default 1.0
        Discount factor ``D`` to the payment date, ``D > 0``.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Prices in the currency of ``forward`` and ``strike``, of the broadcast shape of the inputs (a NumPy
        float64 scalar when every input is a scalar).  NaN where an input is invalid (non-positive forward,
        strike or discount factor, negative time or volatility, non-finite values).

    Notes
    -----
    .. math::

        C = D\,[F\,\Phi(d_1) - K\,\Phi(d_2)], \quad P = D\,[K\,\Phi(-d_2) - F\,\Phi(-d_1)], \quad
        d_{1,2} = \frac{\ln(F/K)}{\sigma\sqrt t} \pm \frac{\sigma\sqrt t}{2}.

    The formula is evaluated as ``max(theta D (F-K), 0) + D sqrt(FK) b(-|x|, s)`` with the normalised
    out-of-the-money price ``b`` computed without cancellation (asymptotic and small-``s`` expansions,
    scaled complementary error function), so far out-of-the-money prices keep full relative accuracy
    (about 1e-15 relative for the normalised function, up to ~3e-13 when the price is near ``1e-300``
    because the exponent ``ln(F/K)^2 / (2 s^2)`` itself carries rounding).  ``t = 0`` or ``vol = 0`` gives
    the discounted intrinsic value.

    References
    ----------
    F. Black, "The pricing of commodity contracts", J. Financial Economics 3 (1976) 167-179.
    P. Jaeckel, "Let's Be Rational", Wilmott (2015) 40-53 (normalised Black function and its regions).
    """
    shape, rows = run_black76(kind, forward, strike, t, vol, discount_factor, greeks=False)
    return finish(rows[0], shape)


def price_and_greeks(
    kind: Any,
    forward: Any,
    strike: Any,
    t: Any,
    vol: Any,
    discount_factor: Any = 1.0,
) -> dict[str, Any]:
    """Price and all greeks in one pass: mapping with ``price`` and the keys of :func:`greeks`.

    Parameters and conventions as in :func:`price` and :func:`greeks`.
    """
    shape, rows = run_black76(kind, forward, strike, t, vol, discount_factor, greeks=True)
    return {name: finish(rows[i], shape) for i, name in enumerate(GREEK_ROWS)}


def greeks(
    kind: Any,
    forward: Any,
    strike: Any,
    t: Any,
    vol: Any,
    discount_factor: Any = 1.0,
) -> dict[str, Any]:
    r"""Analytic Black-76 greeks, taken with respect to the **forward**.

    Parameters
    ----------
    kind, forward, strike, t, vol, discount_factor
        As in :func:`price`.

    Returns
    -------
    dict of str to numpy.ndarray
        ``delta`` (dV/dF), ``gamma`` (d2V/dF2), ``vega`` (dV/dvol, per 1.00 of vol), ``theta`` (dV/d(calendar
        time) per year, i.e. ``-dV/dt``), ``rho`` (dV/dr per 1.00 of rate), ``vanna`` (d2V/dF dvol), ``volga``
        (d2V/dvol2); each of the broadcast shape of the inputs.  NaN where :func:`price` is NaN.

    Notes
    -----
    With ``phi`` the standard normal density and ``theta_k = +1`` (call) / ``-1`` (put):

    .. math::

        \Delta = \theta_k D\,\Phi(\theta_k d_1), \quad \Gamma = \frac{D\,\phi(d_1)}{F\sigma\sqrt t}, \quad
        \mathcal V = D F \phi(d_1)\sqrt t, \quad
        \Theta = -\frac{D F \phi(d_1)\sigma}{2\sqrt t} + r V, \quad \rho = -t V,

        \text{vanna} = -D\,\phi(d_1)\,\frac{d_2}{\sigma}, \quad \text{volga} = \mathcal V\,\frac{d_1 d_2}{\sigma}.

    Theta and rho hold the forward fixed and use the zero rate implied by the discount factor,
    ``r = -ln(D)/t`` (so with ``D = 1`` theta is the pure time decay and rho is ``-t V``).  For the
    Deribit coin-denominated versions see :func:`cryptoderiv.pricing.inverse.greeks`.
    At ``t = 0`` or ``vol = 0`` the greeks are the limits for ``vol -> 0``: delta is the discounted step
    (1/2 exactly at the money), gamma, vega, vanna and volga are 0.

    References
    ----------
    E. G. Haug, The Complete Guide to Option Pricing Formulas, 2nd ed., McGraw-Hill (2007), sections 1.1, 2.
    """
    shape, rows = run_black76(kind, forward, strike, t, vol, discount_factor, greeks=True)
    return {name: finish(rows[i], shape) for i, name in enumerate(GREEK_ROWS) if name != "price"}

