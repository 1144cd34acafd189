"""How well a fitted surface reproduces quotes: inside-the-spread share and errors in IV and premium."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cryptoderiv.pricing.black76 import price as black76_price
from cryptoderiv.surface.chain import OptionChain
from cryptoderiv.surface.vol_surface import QuoteIVs, VolSurface

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FitQuality:
    """Fit statistics over a set of quotes.

    Parameters
    ----------
    n : int
        Quotes evaluated.
    inside_share : float
        Share of quotes whose fitted IV lies in ``[bid_iv, ask_iv]`` (equivalently, fitted premium within
        the bid/ask, Black prices being increasing in vol).
    rmse_iv, mae_iv : float
        Root-mean-square and mean absolute error of the fitted IV against the mid IV (decimal vol).
    rmse_premium_coin, mae_premium_coin : float
        Same for the premium in coin (``USD price / F``, the unit of Deribit inverse options) against the
        mid price.
    """

    n: int
    inside_share: float
    rmse_iv: float
    mae_iv: float
    rmse_premium_coin: float
    mae_premium_coin: float


def fit_quality(
    chain: OptionChain, surface: VolSurface, ivs: QuoteIVs, mask: npt.ArrayLike
) -> FitQuality:
    """Compare a surface with the bid/ask quotes of ``chain`` on the rows in ``mask``.

    Parameters
    ----------
    chain : OptionChain
        Quotes (undiscounted USD prices).
    surface : VolSurface
        Fitted surface.
    ivs : QuoteIVs
        Bid/ask implied vols of ``chain``.
    mask : array_like of bool
        Rows to evaluate; rows whose expiry is not a slice of ``surface`` or without both IVs are dropped.

    Returns
    -------
    FitQuality
        Statistics (NaN when no row is left).

    Notes
    -----
    Fitted premium ``= black76(F, K, t, sigma_fit) / F`` in coin, mid premium ``= (bid + ask) / 2 / F``.
    """
    sel = (np.asarray(mask, dtype=bool) & np.isin(chain.t, surface.times)
           & np.isfinite(ivs.bid) & np.isfinite(ivs.ask))
    n = int(sel.sum())
    if n == 0:
        nan = float("nan")
        return FitQuality(0, nan, nan, nan, nan, nan)
    t, K, F = chain.t[sel], chain.strike[sel], chain.forward[sel]
    fit_iv = surface.implied_vol(t, K)
    err_iv = fit_iv - ivs.mid[sel]
    inside = (fit_iv >= ivs.bid[sel]) & (fit_iv <= ivs.ask[sel])
    kind = np.where(chain.is_call[sel], "call", "put")
    fit_px = np.asarray(black76_price(kind, F, K, t, fit_iv), dtype=np.float64) / F
    err_px = fit_px - chain.mid[sel] / F
    return FitQuality(
        n=n,
        inside_share=float(np.mean(inside)),
        rmse_iv=float(np.sqrt(np.mean(err_iv**2))),
        mae_iv=float(np.mean(np.abs(err_iv))),
        rmse_premium_coin=float(np.sqrt(np.mean(err_px**2))),
        mae_premium_coin=float(np.mean(np.abs(err_px))),
    )
