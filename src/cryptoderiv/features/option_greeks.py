r"""Our implied volatilities and greeks for option chain snapshots (the pandas twin of the Spark job).

Input: one row per option quote, i.e. ``option_quotes`` joined with the contract terms of ``instruments``
(columns :data:`INPUT_COLUMNS`). Output: one row per quote with the columns of :data:`OUTPUT_SCHEMA`, the
``option_greeks`` table (migration ``020_spark_features.sql``).

Conventions
-----------
* Premiums: ``bid``/``ask``/``mark`` are in ``premium_currency``; for inverse (coin-settled) options that is
  the base coin and the USD premium is ``coin premium * forward``
  (:func:`cryptoderiv.pricing.inverse.coin_to_usd`, Deribit's convention: marks are Black-76 on the
  expiry's forward divided by that same forward). Linear options quote in USD already.
* The implied volatility solves Black-76 on the USD premium with ``F = underlying_price`` (the per-expiry
  forward), ``D = 1`` (no discounting, as Deribit marks), ``t = time_to_expiry`` (ACT/365 years). No vol
  (below intrinsic, above the bound, missing quote) gives NaN.
* Greeks are computed at our mark IV (mid IV where the mark has none), with respect to the forward:
  ``delta`` .. ``volga`` per one option on one coin, in USD (Black-76; ``delta`` is what Deribit reports).
  The ``*_coin`` columns follow :func:`cryptoderiv.pricing.inverse.greeks_to_coin` for the premium valued
  in coin, ``P_c = V / F``: ``delta_coin`` is the coin exposure ``F dP_c/dF = delta - P_c`` (Deribit's
  net transaction delta, in coins); ``gamma_coin = d2P_c/dF2``, ``vanna_coin = d2P_c/dF dvol`` and
  ``vega_coin``, ``theta_coin``, ``rho_coin``, ``volga_coin`` (the USD ones divided by ``F``) are
  derivatives of the coin premium.
* ``moneyness = K / F``, ``log_moneyness = ln(K / F)``; ``delta_bucket`` labels ``|delta|`` (USD) by
  option type: ``C00-10``, ``C10-25``, ``C25-40``, ``C40-60``, ``C60-75``, ``C75-90``, ``C90-100`` and the
  same with ``P`` for puts.

"""

from __future__ import annotations

import logging
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from cryptoderiv.pricing import black76, inverse
from cryptoderiv.pricing.implied_vol import implied_vol

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

#: columns the transform reads (quotes joined with instruments)
INPUT_COLUMNS: Final = (
    "instrument_id", "ts", "option_type", "strike", "is_inverse", "bid", "ask", "mark",
    "underlying_price", "time_to_expiry",
)

_GREEKS: Final = ("delta", "gamma", "vega", "theta", "rho", "vanna", "volga")

#: output column -> logical type ("int", "timestamp", "double", "string"); the table's column order
OUTPUT_SCHEMA: Final[dict[str, str]] = {
    "instrument_id": "int",
    "ts": "timestamp",
    "time_to_expiry": "double",
    "forward": "double",
    "moneyness": "double",
    "log_moneyness": "double",
    "mid_usd": "double",
    "iv_bid": "double",
    "iv_ask": "double",
    "iv_mid": "double",
    "iv_mark": "double",
    **{g: "double" for g in _GREEKS},
    **{f"{g}_coin": "double" for g in _GREEKS},
    "delta_bucket": "string",
}

_BUCKET_EDGES: Final = np.array([0.10, 0.25, 0.40, 0.60, 0.75, 0.90])
_BUCKET_LABELS: Final = ("00-10", "10-25", "25-40", "40-60", "60-75", "75-90", "90-100")


def coin_premium_to_usd(premium: npt.ArrayLike, forward: npt.ArrayLike, is_inverse: npt.ArrayLike) -> FloatArray:
    """USD value of a premium quoted in ``premium_currency``.

    Parameters
    ----------
    premium : array_like
        Premium as quoted: coin for inverse options, USD otherwise.
    forward : array_like
        Per-expiry forward in USD per coin.
    is_inverse : array_like of bool
        Whether the option is coin-settled.

    Returns
    -------
    numpy.ndarray
        :func:`cryptoderiv.pricing.inverse.coin_to_usd` (``premium * forward``) for inverse options,
        ``premium`` otherwise (float64).
    """
    p = np.asarray(premium, dtype=np.float64)
    usd = np.asarray(inverse.coin_to_usd(p, forward), dtype=np.float64)
    return np.where(np.asarray(is_inverse, dtype=bool), usd, p)


def delta_bucket(delta: npt.ArrayLike, is_call: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Label ``|delta|`` into the buckets of the module docstring (``None`` where delta is NaN)."""
    d = np.abs(np.asarray(delta, dtype=np.float64))
    idx = np.searchsorted(_BUCKET_EDGES, d, side="right")
    prefix = np.where(np.asarray(is_call, dtype=bool), "C", "P")
    labels = np.asarray(_BUCKET_LABELS, dtype=object)[np.minimum(idx, len(_BUCKET_LABELS) - 1)]
    out = np.char.add(prefix.astype(str), labels.astype(str)).astype(object)
    out[~np.isfinite(d)] = None
    return out


def _column(frame: pd.DataFrame, name: str) -> FloatArray:
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def compute_option_greeks(quotes: pd.DataFrame) -> pd.DataFrame:
    """IVs from bid, ask, mid and mark, and greeks in USD and coin, for every quote.

    Parameters
    ----------
    quotes : pandas.DataFrame
        Columns :data:`INPUT_COLUMNS` (others are ignored): ``option_type`` ``"call"``/``"put"``, premiums
        in ``premium_currency`` (coin when ``is_inverse``), ``underlying_price`` the per-expiry forward (USD),
        ``time_to_expiry`` ACT/365 years.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OUTPUT_SCHEMA`, one row per input row, in input order. IVs are annual decimals
        (NaN where no vol exists); greeks are NaN where no IV exists.

    Raises
    ------
    KeyError
        A column of :data:`INPUT_COLUMNS` is missing.
    """
    missing = [c for c in INPUT_COLUMNS if c not in quotes.columns]
    if missing:
        raise KeyError(f"option quotes lack columns {missing}")
    n = len(quotes)
    f = _column(quotes, "underlying_price")
    k = _column(quotes, "strike")
    t = _column(quotes, "time_to_expiry")
    coin_settled = quotes["is_inverse"].fillna(False).to_numpy(dtype=bool)
    kind = quotes["option_type"].astype(str).str.lower().to_numpy()
    is_call = kind == "call"
    theta_sign = np.where(is_call, 1.0, -1.0)  # +1/-1 kind codes avoid string handling in the kernels

    bid = coin_premium_to_usd(_column(quotes, "bid"), f, coin_settled)
    ask = coin_premium_to_usd(_column(quotes, "ask"), f, coin_settled)
    mark = coin_premium_to_usd(_column(quotes, "mark"), f, coin_settled)
    mid = np.where(np.isfinite(bid) & np.isfinite(ask) & (bid > 0), 0.5 * (bid + ask), np.nan)

    if n == 0:
        ivs: dict[str, FloatArray] = {name: np.empty(0) for name in ("bid", "ask", "mid", "mark")}
    else:
        ivs = {name: np.asarray(implied_vol(theta_sign, p, f, k, t), dtype=np.float64)
               for name, p in (("bid", bid), ("ask", ask), ("mid", mid), ("mark", mark))}
    vol = np.where(np.isfinite(ivs["mark"]), ivs["mark"], ivs["mid"])

    if n == 0:
        pg: dict[str, Any] = {name: np.empty(0) for name in ("price", *_GREEKS)}
    else:
        pg = black76.price_and_greeks(theta_sign, f, k, t, vol)
    usd = {g: np.asarray(pg[g], dtype=np.float64) for g in _GREEKS}
    to_coin = inverse.greeks_to_coin(pg, f) if n else {g: np.empty(0) for g in (*_GREEKS, "delta_adjusted")}
    coin = {g: np.asarray(to_coin[g], dtype=np.float64) for g in _GREEKS}
    coin["delta"] = np.asarray(to_coin["delta_adjusted"], dtype=np.float64)

    out = pd.DataFrame({
        "instrument_id": quotes["instrument_id"].to_numpy(dtype=np.int32),
        "ts": quotes["ts"].reset_index(drop=True),  # a Series: tz-aware stays tz-aware, no object array
        "time_to_expiry": t,
        "forward": f,
        "moneyness": k / f,
        "log_moneyness": np.log(k / f),
        "mid_usd": mid,
        "iv_bid": ivs["bid"],
        "iv_ask": ivs["ask"],
        "iv_mid": ivs["mid"],
        "iv_mark": ivs["mark"],
        **usd,
        **{f"{g}_coin": coin[g] for g in _GREEKS},
        "delta_bucket": delta_bucket(usd["delta"], is_call),
    })
    log.debug("option greeks for %d quotes, %d without a mark IV", n, int(np.isnan(ivs["mark"]).sum()))
    return out
