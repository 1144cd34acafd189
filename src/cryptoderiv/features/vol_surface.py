r"""Per snapshot and expiry SVI fits and the surface metrics derived from them (pandas twin of the Spark job).

Two steps, each a function of one group so Spark can run it through ``applyInPandas``:

1. :func:`fit_expiry` -- one ``(exchange, base, ts, expiry)`` group of quotes with our IVs (from
   ``option_greeks``): raw SVI (:func:`cryptoderiv.surface.svi.fit_svi`) on the out-of-the-money quotes'
   total variance ``w = iv^2 t``, then ATM IV and 25-delta risk reversal / butterfly of the fitted smile
   (:func:`cryptoderiv.analytics.skew.delta_skew`) and the smile's model-free variance (see Notes).
   Output: one row of :data:`SLICE_SCHEMA` (table ``vol_surfaces``), none when the fit is impossible.
2. :func:`snapshot_metrics` -- the fitted slices of one ``(exchange, base, ts)``: constant-maturity ATM
   IVs (:func:`cryptoderiv.analytics.term_structure.constant_maturity_vol`), 30-day RR/BF from the
   interpolated surface, and the 30-day variance index (total fair variance linear in time between the
   bracketing expiries, flat-vol outside). Output: one row of :data:`METRICS_SCHEMA`
   (table ``vol_surface_metrics``).

Notes
-----
The fair variance of a slice is the variance-swap strike of its fitted smile (undiscounted, ``D = 1``):

.. math::

    \sigma^2_{VS}(T) = \frac{2}{T} \int \frac{Q(K)}{K^2}\,dK = \frac{2}{T} \int q(k)\,e^{-k}\,dk,

with ``Q`` the out-of-the-money Black-76 price at the SVI vol, ``q = Q / F`` and ``k = ln(K/F)``,
integrated with Simpson's rule on each side of the forward (where ``Q`` has a kink) over ``k`` in +-12
standard deviations (``sqrt(w(0))``), 401 points per side.

References
----------
Demeterfi, Derman, Kamal, Zou, "More than you ever wanted to know about volatility swaps", Goldman Sachs
Quantitative Strategies (1999), eq. (26).
"""

from __future__ import annotations

import logging
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.integrate import simpson

from cryptoderiv.analytics.skew import delta_skew
from cryptoderiv.analytics.term_structure import constant_maturity_vol
from cryptoderiv.features.frames import empty_frame
from cryptoderiv.pricing import black76
from cryptoderiv.surface.svi import SVIError, SVIParams, fit_svi
from cryptoderiv.surface.vol_surface import SmileSlice, SurfaceError, VolSurface

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

SLICE_KEYS: Final = ("exchange", "base", "ts", "expiry")
SNAPSHOT_KEYS: Final = ("exchange", "base", "ts")

#: columns :func:`fit_expiry` reads
INPUT_COLUMNS: Final = (*SLICE_KEYS, "time_to_expiry", "forward", "index_price", "log_moneyness", "option_type",
                        "iv_mark", "iv_mid")

MIN_POINTS: Final = 5
CONSTANT_MATURITIES_DAYS: Final = (7, 30, 60, 90)

SLICE_SCHEMA: Final[dict[str, str]] = {
    "exchange": "string", "base": "string", "ts": "timestamp", "expiry": "timestamp",
    "time_to_expiry": "double", "forward": "double", "index_price": "double",
    "svi_a": "double", "svi_b": "double", "svi_rho": "double", "svi_m": "double", "svi_sigma": "double",
    "rmse_total_variance": "double", "n_points": "int", "min_g": "double", "k_min": "double", "k_max": "double",
    "atm_iv": "double", "iv_25d_call": "double", "iv_25d_put": "double", "rr_25d": "double", "bf_25d": "double",
    "fair_variance": "double",
}

METRICS_SCHEMA: Final[dict[str, str]] = {
    "exchange": "string", "base": "string", "ts": "timestamp", "n_expiries": "int",
    **{f"atm_iv_{d}d": "double" for d in CONSTANT_MATURITIES_DAYS},
    "rr_25d_30d": "double", "bf_25d_30d": "double", "variance_index_30d": "double",
}


def fair_variance(params: SVIParams, t: float) -> float:
    """Annualised variance-swap strike of one SVI slice (see the module Notes)."""
    atm_sd = float(np.sqrt(max(params.total_variance(np.array([0.0]))[0], 1e-12)))
    total = 0.0
    for k in (np.linspace(-12.0 * atm_sd, 0.0, 401), np.linspace(0.0, 12.0 * atm_sd, 401)):
        vol = np.sqrt(np.maximum(params.total_variance(k), 0.0) / t)
        kind = 1.0 if k[-1] > 0.0 else -1.0  # OTM: calls above the forward, puts below
        q = np.asarray(black76.price(kind, 1.0, np.exp(k), t, vol), dtype=np.float64)
        total += float(simpson(q * np.exp(-k), x=k))
    return 2.0 / t * total


def fit_expiry(quotes: pd.DataFrame) -> pd.DataFrame:
    """SVI fit and smile metrics of one ``(exchange, base, ts, expiry)`` group.

    Parameters
    ----------
    quotes : pandas.DataFrame
        Columns :data:`INPUT_COLUMNS`; one snapshot of one expiry. The IV used is ``iv_mark``, else
        ``iv_mid``; only out-of-the-money quotes (calls at ``k >= 0``, puts at ``k < 0``) are fitted.

    Returns
    -------
    pandas.DataFrame
        One row of :data:`SLICE_SCHEMA`; no rows when fewer than ``MIN_POINTS`` usable quotes remain or
        the fit fails (logged).
    """
    if quotes.empty:
        return empty_frame(SLICE_SCHEMA)
    first = quotes.iloc[0]
    t = float(np.median(quotes["time_to_expiry"].to_numpy(dtype=np.float64)))
    forward = float(np.median(quotes["forward"].to_numpy(dtype=np.float64)))
    spot = float(np.median(quotes["index_price"].to_numpy(dtype=np.float64)))
    k = quotes["log_moneyness"].to_numpy(dtype=np.float64)
    iv = quotes["iv_mark"].to_numpy(dtype=np.float64, na_value=np.nan)
    iv = np.where(np.isfinite(iv), iv, quotes["iv_mid"].to_numpy(dtype=np.float64, na_value=np.nan))
    is_call = quotes["option_type"].astype(str).str.lower().to_numpy() == "call"
    usable = np.isfinite(k) & np.isfinite(iv) & (iv > 0) & np.where(is_call, k >= 0.0, k < 0.0)
    if usable.sum() < MIN_POINTS or not (t > 0 and forward > 0 and spot > 0):
        log.info("too few quotes to fit %s %s %s expiry %s: %d", first["exchange"], first["base"], first["ts"],
                 first["expiry"], int(usable.sum()))
        return empty_frame(SLICE_SCHEMA)
    order = np.argsort(k[usable], kind="stable")
    try:
        fit = fit_svi(k[usable][order], iv[usable][order] ** 2 * t)
        surface = VolSurface([SmileSlice(t=t, forward=forward, params=fit.params, fit=fit)], spot=spot)
    except (SVIError, SurfaceError) as exc:
        log.warning("SVI fit failed for %s %s %s expiry %s: %s", first["exchange"], first["base"], first["ts"],
                    first["expiry"], exc)
        return empty_frame(SLICE_SCHEMA)
    skew = delta_skew(surface, np.array([t]), 0.25)
    p = fit.params
    row = {
        "exchange": first["exchange"], "base": first["base"], "ts": first["ts"], "expiry": first["expiry"],
        "time_to_expiry": t, "forward": forward, "index_price": spot,
        "svi_a": p.a, "svi_b": p.b, "svi_rho": p.rho, "svi_m": p.m, "svi_sigma": p.sigma,
        "rmse_total_variance": fit.rmse_total_variance, "n_points": int(fit.n_points), "min_g": fit.min_g,
        "k_min": fit.k_min, "k_max": fit.k_max,
        "atm_iv": float(skew.atm_vol[0]), "iv_25d_call": float(skew.call_vol[0]),
        "iv_25d_put": float(skew.put_vol[0]), "rr_25d": float(skew.risk_reversal[0]),
        "bf_25d": float(skew.butterfly[0]), "fair_variance": fair_variance(p, t),
    }
    return pd.DataFrame([row], columns=list(SLICE_SCHEMA))


def snapshot_metrics(slices: pd.DataFrame) -> pd.DataFrame:
    """Constant-maturity metrics of one ``(exchange, base, ts)`` from its fitted slices.

    Parameters
    ----------
    slices : pandas.DataFrame
        Rows of :data:`SLICE_SCHEMA` of one snapshot.

    Returns
    -------
    pandas.DataFrame
        One row of :data:`METRICS_SCHEMA` (no rows for an empty input).
    """
    if slices.empty:
        return empty_frame(METRICS_SCHEMA)
    slices = slices.sort_values("time_to_expiry").drop_duplicates("time_to_expiry")
    t = slices["time_to_expiry"].to_numpy(dtype=np.float64)
    first = slices.iloc[0]
    cm = constant_maturity_vol(t, slices["atm_iv"].to_numpy(dtype=np.float64), CONSTANT_MATURITIES_DAYS)
    params = slices[["time_to_expiry", "forward", "svi_a", "svi_b", "svi_rho", "svi_m", "svi_sigma"]].to_numpy(
        dtype=np.float64)
    surface = VolSurface([
        SmileSlice(t=tt, forward=fwd, params=SVIParams(a=a, b=b, rho=rho, m=m, sigma=sig))
        for tt, fwd, a, b, rho, m, sig in params.tolist()
    ], spot=float(slices["index_price"].to_numpy(dtype=np.float64)[0]))
    skew = delta_skew(surface, np.array([30.0 / 365.0]), 0.25)
    row = {
        "exchange": first["exchange"], "base": first["base"], "ts": first["ts"], "n_expiries": len(slices),
        **{f"atm_iv_{d}d": float(v) for d, v in zip(CONSTANT_MATURITIES_DAYS, cm, strict=True)},
        "rr_25d_30d": float(skew.risk_reversal[0]), "bf_25d_30d": float(skew.butterfly[0]),
        "variance_index_30d": variance_index(t, slices["fair_variance"].to_numpy(dtype=np.float64), 30.0 / 365.0),
    }
    return pd.DataFrame([row], columns=list(METRICS_SCHEMA))


def variance_index(t: FloatArray, fair_var: FloatArray, horizon: float) -> float:
    """Vol-index level (decimal) at ``horizon`` years: fair total variance linear in time between the
    bracketing expiries, the nearest expiry's fair variance outside them; NaN without finite inputs."""
    ok = np.isfinite(t) & np.isfinite(fair_var) & (t > 0) & (fair_var >= 0)
    if not ok.any():
        return float("nan")
    tt, var = t[ok], fair_var[ok]
    if horizon <= tt[0]:
        return float(np.sqrt(var[0]))
    if horizon >= tt[-1]:
        return float(np.sqrt(var[-1]))
    total = np.interp(horizon, tt, var * tt)
    return float(np.sqrt(total / horizon))


def fit_vol_surfaces(quotes: pd.DataFrame) -> pd.DataFrame:
    """:func:`fit_expiry` over every ``(exchange, base, ts, expiry)`` group (the whole-frame pandas path)."""
    parts = [fit_expiry(g) for _, g in quotes.groupby(list(SLICE_KEYS), sort=True)]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else empty_frame(SLICE_SCHEMA)


def surface_metrics(slices: pd.DataFrame) -> pd.DataFrame:
    """:func:`snapshot_metrics` over every ``(exchange, base, ts)`` (the whole-frame pandas path)."""
    parts = [snapshot_metrics(g) for _, g in slices.groupby(list(SNAPSHOT_KEYS), sort=True)]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else empty_frame(METRICS_SCHEMA)
