r"""Portfolio greeks per position and in total, in coin and USD, and beta-weighted to BTC.

Greeks are central finite differences of the full revaluation :func:`~cryptoderiv.portfolio.valuation.revalue`
(so every instrument type - inverse options whose USD value is ``coin premium x spot``, inverse futures,
dated futures with basis - is covered by one consistent definition):

* ``delta_coin = dV/dS`` (coins of underlying; V in USD), ``delta_usd = S delta_coin``;
* ``gamma_coin = d2V/dS2`` (coins per USD), ``gamma_usd = 0.01 S^2 gamma_coin`` (USD delta change per 1 % move);
* ``vega_usd = 0.01 dV/dsigma`` (USD per vol point, parallel shift of the smile);
* ``theta_usd = V(t + 1 day) - V(t)`` (USD per calendar day, funding excluded);
* ``vanna_usd = 0.01 S d2V/dS dsigma`` (USD delta change per vol point);
* ``volga_usd = 1e-4 d2V/dsigma2`` (vega change per vol point, USD);
* ``*_coin`` versions of vega/theta divide by spot; ``btc_beta_delta_usd = beta delta_usd``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cryptoderiv.portfolio.valuation import Book, revalue

__all__ = ["GREEK_COLUMNS", "portfolio_greeks"]

GREEK_COLUMNS = ("value_usd", "delta_coin", "delta_usd", "gamma_coin", "gamma_usd", "vega_usd", "theta_usd",
                 "vanna_usd", "volga_usd", "vega_coin", "theta_coin", "btc_beta_delta_usd")
_H_SPOT = 1e-3   # relative spot bump
_H_VOL = 1e-3    # absolute vol bump (decimal)


def portfolio_greeks(book: Book, beta_to_btc: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Greeks of each position and the ``TOTAL`` row.

    Parameters
    ----------
    book : Book
        Portfolio on its snapshot.
    beta_to_btc : mapping of str to float, optional
        Beta of each base's daily returns on BTC's (BTC = 1; a missing base counts as 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``position_id``, ``base``, ``spot_usd``, ``beta_to_btc`` and :data:`GREEK_COLUMNS`; one row per
        position plus ``TOTAL`` (USD columns summed; coin columns of TOTAL in BTC - or the first base when no
        BTC is held - at its spot, delta beta-weighted).  Units in the module docstring.
    """
    nb = len(book.bases)
    eye = np.eye(nb)
    # Scenario rows: base, then for each base: S+, S-, vol+, vol-, S+vol+, S+vol-, S-vol+, S-vol-.
    mult = [np.ones(nb)]
    shift = [np.zeros(nb)]
    for j in range(nb):
        for ds, dv in ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)):
            mult.append(1.0 + ds * _H_SPOT * eye[j])
            shift.append(dv * _H_VOL * eye[j])
    values = revalue(book, np.array(mult), np.array(shift))
    day = revalue(book, 1.0, 0.0, 1.0 / 365.0, include_funding=False)[0]
    v0 = values[0]
    out = {c: np.zeros(len(book)) for c in GREEK_COLUMNS}
    s = book.spot_of_positions()
    for j in range(nb):
        mine = book.base_idx == j
        r = 1 + 8 * j
        up, dn, vu, vd, uu, ud, du, dd = (values[r + i] for i in range(8))
        hs = _H_SPOT * book.spot0[j]
        delta = (up - dn) / (2 * hs)
        gamma = (up - 2 * v0 + dn) / hs**2
        vega = (vu - vd) / (2 * _H_VOL)
        volga = (vu - 2 * v0 + vd) / _H_VOL**2
        vanna = (uu - ud - du + dd) / (4 * hs * _H_VOL)
        out["delta_coin"][mine] = delta[mine]
        out["gamma_coin"][mine] = gamma[mine]
        out["vega_usd"][mine] = 0.01 * vega[mine]
        out["volga_usd"][mine] = 1e-4 * volga[mine]
        out["vanna_usd"][mine] = 0.01 * book.spot0[j] * vanna[mine]
    out["value_usd"] = v0
    out["delta_usd"] = out["delta_coin"] * s
    out["gamma_usd"] = 0.01 * s**2 * out["gamma_coin"]
    out["theta_usd"] = day - v0
    out["vega_coin"] = out["vega_usd"] / s
    out["theta_coin"] = out["theta_usd"] / s
    betas = np.array([float((beta_to_btc or {}).get(book.bases[j], 1.0)) for j in book.base_idx])
    out["btc_beta_delta_usd"] = out["delta_usd"] * betas
    frame = pd.DataFrame({"position_id": list(book.ids), "base": [book.bases[j] for j in book.base_idx],
                          "spot_usd": s, "beta_to_btc": betas, **out})
    total = {c: float(frame[c].sum()) for c in GREEK_COLUMNS}
    # TOTAL coin columns are in units of the reference coin (BTC when held, else the first base) at its spot:
    # delta_coin is the BTC-beta-weighted delta, the others the USD totals converted.
    ref = book.spot0[book.bases.index("BTC")] if "BTC" in book.bases else book.spot0[0]
    total["delta_coin"] = total["btc_beta_delta_usd"] / ref
    total["gamma_coin"] = total["gamma_usd"] / (0.01 * ref**2)
    total["vega_coin"] = total["vega_usd"] / ref
    total["theta_coin"] = total["theta_usd"] / ref
    total_row = pd.DataFrame([{"position_id": "TOTAL", "base": None, "spot_usd": np.nan, "beta_to_btc": np.nan,
                               **total}])
    return pd.concat([frame, total_row], ignore_index=True)
