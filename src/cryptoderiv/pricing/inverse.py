r"""Inverse (coin-settled) options, Deribit conventions: premiums and greeks in coin and USD, IV from coin.

A Deribit BTC option on strike ``K`` (USD) pays at expiry ``max(S_T - K, 0) / S_T`` BTC (call) or
``max(K - S_T, 0) / S_T`` BTC (put), ``S_T`` the delivery price; its premium is quoted and paid in BTC.

Conventions (checked on the Deribit snapshots in ``../shared/data/market/deribit_svcj_snapshots``, see
``scripts/validate_pricing.py``):

* **Premium.**  Deribit marks an option with Black-76 on the expiry's forward ``F`` (its ``underlying_price``:
  the future of that expiry or a synthetic ``SYN.`` forward), no discounting, at the mark IV, and quotes
  ``premium_coin = premium_usd / F`` with the **same forward** ``F``.  (The USD amounts Deribit *displays*
  are ``premium_coin * index``; that is presentation only.)  Checked on all 236 snapshots: Black-76 at the
  mark IV on ``F``, divided by ``F``, reproduces ``mark_price`` to a median 5e-6 coin; dividing by the spot
  index instead is off by ~2e-4.  This is arbitrage-consistent with a zero coin interest rate: the payoff
  ``(S_T - K)^+ / S_T`` coins is worth ``(S_T - K)^+`` USD at expiry, so ``D_usd V_black(F)`` USD, i.e.
  ``D_usd V_black / S_0`` coins, today; with ``F = S_0 e^{(r_usd - r_coin) T}`` that is
  ``e^{-r_coin T} V_black / F``.
* **Time.**  ACT/365 from the mark time to expiry (08:00 UTC); the snapshot files carry a
  ``time_to_maturity`` on ACT/365.25, which is *not* Deribit's and costs about 2e-4 of IV if used.
* **IV.**  ``mark_iv`` is the Black-76 volatility of ``premium_coin * F`` on ``F`` (:func:`implied_vol`).
* **Delta.**  The ``delta`` Deribit reports per option is the plain Black forward delta of the USD value,
  ``Phi(d1)`` for a call and ``Phi(d1) - 1`` for a put (undiscounted).  Its account-level "net
  transaction" (price-adjusted) delta is ``delta - premium_coin``: for ``P_c = V/F``,

  .. math:: F\,\frac{\partial P_c}{\partial F} = \frac{\partial V}{\partial F} - \frac{V}{F}
            = \Delta - P_c,

  the coin exposure of the option, i.e. the BTC amount of coin-margined futures that hedges it (an inverse
  future of ``N`` USD notional gains ``N dF / F^2`` BTC, which is ``(N/F) dF/F``).  Both are returned by
  :func:`greeks` (``delta`` and ``delta_adjusted``).
* **Other greeks.**  Deribit's gamma, vega, theta and rho are the Black ones in USD (vega per 1 % on the
  exchange; per 1.00 here, like the rest of the library).  :func:`greeks_to_coin` converts USD greeks into
  derivatives of the coin premium.

References
----------
Deribit, "Inverse Options" and API ``public/ticker`` documentation (greeks: "delta ... is the Black Scholes
delta"; "DeltaTotal ... Net Transaction Delta = Black Scholes Delta - Mark Price of Options").
C. Alexander, A. Imeraj, "Inverse options in a Black-Scholes world", arXiv:2107.12041 (2021).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cryptoderiv.pricing import black76
from cryptoderiv.pricing._black_core import broadcast_inputs
from cryptoderiv.pricing.implied_vol import ImpliedVolResult, implied_vol_with_reason

__all__ = [
    "coin_to_usd",
    "greeks",
    "greeks_to_coin",
    "implied_vol",
    "implied_vol_with_reason_coin",
    "price",
    "usd_to_coin",
]


def _floats(**named: Any) -> list[np.ndarray]:
    """Named float64 conversion and broadcast check (``ValueError`` naming the argument)."""
    broadcast_inputs(**named)
    return [np.asarray(v, dtype=np.float64) for v in named.values()]


def _out(value: np.ndarray) -> Any:
    return value[()] if np.ndim(value) == 0 else value


def usd_to_coin(premium_usd: Any, forward: Any) -> Any:
    r"""Coin premium from a USD premium: ``premium_usd / forward``.

    Parameters
    ----------
    premium_usd : array_like
        Premium in USD (e.g. a Black-76 price on ``forward``).
    forward : array_like
        The forward the premium was computed on (Deribit's ``underlying_price`` for the expiry).

    Returns
    -------
    numpy.ndarray or numpy.float64
        Premium in coin.  NaN where ``forward`` is not finite and positive.

    Notes
    -----
    .. math:: P_{coin} = V_{USD} / F

    References
    ----------
    Deribit, "Inverse Options" (support article).
    """
    p, f = _floats(premium_usd=premium_usd, forward=forward)
    with np.errstate(all="ignore"):
        return _out(np.where((f > 0) & np.isfinite(f), p / f, np.nan))


def coin_to_usd(premium_coin: Any, forward: Any) -> Any:
    r"""USD premium from a coin premium: ``premium_coin * forward`` (inverse of :func:`usd_to_coin`).

    Parameters
    ----------
    premium_coin : array_like
        Premium in coin (Deribit ``mark_price``, ``best_bid_price`` ...).
    forward : array_like
        Forward of the expiry (Deribit ``underlying_price``); pass the index to reproduce the USD figures
        Deribit displays.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Premium in USD; NaN where ``forward`` is not finite and positive.

    Notes
    -----
    .. math:: V_{USD} = P_{coin}\,F

    References
    ----------
    Deribit, "Inverse Options" (support article).
    """
    p, f = _floats(premium_coin=premium_coin, forward=forward)
    with np.errstate(all="ignore"):
        return _out(np.where((f > 0) & np.isfinite(f), p * f, np.nan))


def price(kind: Any, forward: Any, strike: Any, t: Any, vol: Any, discount_factor: Any = 1.0) -> Any:
    r"""Coin premium of an inverse option: Black-76 USD price on the forward, divided by the forward.

    Parameters
    ----------
    kind : str or array_like
        ``"call"``/``"put"`` (or an array, or +1/-1).
    forward : array_like
        Forward ``F`` (USD per coin) of the expiry.
    strike : array_like
        Strike ``K`` in USD.
    t : array_like
        Years to expiry, ACT/365.
    vol : array_like
        Black volatility, annual decimal.
    discount_factor : array_like, default 1.0
        USD discount factor; Deribit marks use 1.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Premium in coin; NaN for invalid inputs.

    Notes
    -----
    .. math:: P_c = \frac{D}{F}\,[F\Phi(d_1) - K\Phi(d_2)] \;\text{(call)}, \quad
              P_c = \frac{D}{F}\,[K\Phi(-d_2) - F\Phi(-d_1)] \;\text{(put)}.

    References
    ----------
    C. Alexander, A. Imeraj, "Inverse options in a Black-Scholes world", arXiv:2107.12041 (2021).
    """
    usd = black76.price(kind, forward, strike, t, vol, discount_factor)
    return usd_to_coin(usd, forward)


def implied_vol_with_reason_coin(
    kind: Any, price_coin: Any, forward: Any, strike: Any, t: Any, discount_factor: Any = 1.0
) -> ImpliedVolResult:
    r"""Black implied volatility from a **coin** premium and the forward, with reason codes.

    Parameters
    ----------
    kind : str or array_like
        ``"call"``/``"put"`` (or an array, or +1/-1).
    price_coin : array_like
        Premium in coin (e.g. Deribit ``mark_price``).
    forward : array_like
        Forward of the expiry (Deribit ``underlying_price``).
    strike : array_like
        Strike in USD.
    t : array_like
        Years to expiry, ACT/365 (Deribit's convention).
    discount_factor : array_like, default 1.0
        USD discount factor (1 reproduces Deribit's ``mark_iv``).

    Returns
    -------
    ImpliedVolResult
        See :func:`cryptoderiv.pricing.implied_vol.implied_vol_with_reason`.

    Notes
    -----
    Solves ``price(kind, F, K, t, sigma, D) = price_coin``, i.e. the Black-76 problem for the USD premium
    ``price_coin * F``.  No-arbitrage bounds in coin: ``D max(theta (1 - K/F), 0) <= P_c < D`` (call),
    ``< D K / F`` (put).

    References
    ----------
    P. Jaeckel, "Let's Be Rational", Wilmott (2015) 40-53.
    """
    p, f = _floats(price_coin=price_coin, forward=forward)
    with np.errstate(all="ignore"):
        usd = p * f
    return implied_vol_with_reason(kind, usd, forward, strike, t, discount_factor)


def implied_vol(kind: Any, price_coin: Any, forward: Any, strike: Any, t: Any, discount_factor: Any = 1.0) -> Any:
    """Black implied volatility from a coin premium; NaN where none exists.

    Parameters
    ----------
    kind, price_coin, forward, strike, t, discount_factor
        As in :func:`implied_vol_with_reason_coin`.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Volatility (annual decimal).

    Notes
    -----
    Reasons for NaN are available from :func:`implied_vol_with_reason_coin`.

    References
    ----------
    P. Jaeckel, "Let's Be Rational", Wilmott (2015) 40-53.
    """
    return implied_vol_with_reason_coin(kind, price_coin, forward, strike, t, discount_factor).vol


def greeks_to_coin(usd: Mapping[str, Any], forward: Any) -> dict[str, Any]:
    r"""Convert Black-76 USD price and greeks into derivatives of the coin premium ``P_c = V / F``.

    Parameters
    ----------
    usd : mapping
        Must contain ``price`` and ``delta`` (dV/dF); may contain ``gamma``, ``vega``, ``theta``, ``rho``,
        ``vanna``, ``volga`` (as returned by :func:`cryptoderiv.pricing.black76.price_and_greeks`).
    forward : array_like
        The forward ``F`` the USD values were computed on.

    Returns
    -------
    dict of str to numpy.ndarray
        ``price`` (coin), ``delta`` (dP_c/dF, coin per USD), ``delta_adjusted`` (``F dP_c/dF = Delta - P_c``,
        coin; Deribit's net transaction delta) and, when present in ``usd``: ``gamma`` (d2P_c/dF2),
        ``vega``, ``theta``, ``rho``, ``volga`` (divided by ``F``), ``vanna`` (d2P_c/dF dvol).

    Notes
    -----
    .. math::

        \frac{\partial P_c}{\partial F} = \frac{\Delta - P_c}{F}, \quad
        \frac{\partial^2 P_c}{\partial F^2} = \frac{\Gamma}{F} - \frac{2(\Delta - P_c)}{F^2}, \quad
        \frac{\partial^2 P_c}{\partial F\,\partial\sigma} = \frac{\text{vanna}}{F} - \frac{\mathcal V}{F^2}.

    References
    ----------
    C. Alexander, A. Imeraj, "Inverse options in a Black-Scholes world", arXiv:2107.12041 (2021).
    """
    (f,) = _floats(forward=forward)
    with np.errstate(all="ignore"):
        pc = np.asarray(usd["price"], dtype=np.float64) / f
        adjusted = np.asarray(usd["delta"], dtype=np.float64) - pc
        out: dict[str, Any] = {"price": _out(pc), "delta": _out(adjusted / f), "delta_adjusted": _out(adjusted)}
        if "gamma" in usd:
            out["gamma"] = _out(np.asarray(usd["gamma"], dtype=np.float64) / f - 2.0 * adjusted / (f * f))
        for key in ("vega", "theta", "rho", "volga"):
            if key in usd:
                out[key] = _out(np.asarray(usd[key], dtype=np.float64) / f)
        if "vanna" in usd and "vega" in usd:
            vanna = np.asarray(usd["vanna"], dtype=np.float64)
            out["vanna"] = _out(vanna / f - np.asarray(usd["vega"], dtype=np.float64) / (f * f))
    return out


def greeks(kind: Any, forward: Any, strike: Any, t: Any, vol: Any, discount_factor: Any = 1.0) -> dict[str, Any]:
    r"""Deribit-convention greeks of an inverse option.

    Parameters
    ----------
    kind, forward, strike, t, vol, discount_factor
        As in :func:`price`.

    Returns
    -------
    dict of str to numpy.ndarray
        ``price_coin``; the Black-76 USD greeks ``delta`` (Deribit's per-option delta, ``D Phi(d1)`` /
        ``D (Phi(d1) - 1)``), ``gamma``, ``vega`` (per 1.00 vol), ``theta`` (per year), ``rho``, ``vanna``,
        ``volga``; and ``delta_adjusted = delta - price_coin`` (Deribit's net transaction delta, in coin).

    Notes
    -----
    .. math:: \Delta_{adj} = F \frac{\partial (V/F)}{\partial F} = \Delta - P_c

    The derivatives of the coin premium itself are available through :func:`greeks_to_coin`.

    References
    ----------
    Deribit API documentation, ``public/ticker`` (greeks) and account summary (``delta_total``).
    """
    usd = black76.price_and_greeks(kind, forward, strike, t, vol, discount_factor)
    (f,) = _floats(forward=forward)
    with np.errstate(all="ignore"):
        pc = np.asarray(usd["price"]) / f
        out: dict[str, Any] = {"price_coin": _out(pc)}
        out.update({k: v for k, v in usd.items() if k != "price"})
        out["delta_adjusted"] = _out(np.asarray(usd["delta"]) - pc)
    return out
