"""Delta-based smile metrics: 25-delta risk reversal, butterfly and normalised skew.

Deltas are undiscounted Black-76 forward deltas (``N(d1)`` for calls, ``N(d1) - 1`` for puts, not
premium-adjusted; the convention of Deribit's ``delta`` field). ATM is forward ATM (``K = F``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cryptoderiv.surface.vol_surface import VolSurface

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class SkewMetrics:
    """Smile metrics at one or more maturities (arrays aligned with ``t``).

    Parameters
    ----------
    t : numpy.ndarray
        Maturities, years.
    delta : float
        Absolute delta of the wings (0.25 for the 25-delta metrics).
    atm_vol : numpy.ndarray
        Forward-ATM implied volatility.
    call_vol, put_vol : numpy.ndarray
        Implied volatility of the ``+delta`` call and the ``-delta`` put.
    """

    t: FloatArray
    delta: float
    atm_vol: FloatArray
    call_vol: FloatArray
    put_vol: FloatArray

    @property
    def risk_reversal(self) -> FloatArray:
        """``sigma_call(delta) - sigma_put(-delta)`` (decimal vol; > 0 when calls are bid)."""
        return self.call_vol - self.put_vol

    @property
    def butterfly(self) -> FloatArray:
        """``(sigma_call + sigma_put) / 2 - sigma_ATM`` (the "smile" strangle spread over ATM)."""
        return 0.5 * (self.call_vol + self.put_vol) - self.atm_vol

    @property
    def normalized_skew(self) -> FloatArray:
        """Risk reversal divided by ATM volatility (dimensionless)."""
        return self.risk_reversal / self.atm_vol

    @property
    def normalized_butterfly(self) -> FloatArray:
        """Butterfly divided by ATM volatility (dimensionless)."""
        return self.butterfly / self.atm_vol


def delta_skew(surface: VolSurface, t: npt.ArrayLike, delta: float = 0.25) -> SkewMetrics:
    """Risk reversal, butterfly and normalised skew at maturities ``t`` from a fitted surface.

    Parameters
    ----------
    surface : VolSurface
        Implied-volatility surface.
    t : array_like
        Maturities in years (e.g. ``np.array([7, 30, 60]) / 365``).
    delta : float, default 0.25
        Absolute wing delta, ``0 < delta < 0.5``.

    Returns
    -------
    SkewMetrics
        ATM, call-wing and put-wing vols; derived RR, BF and normalised skew as properties.

    Notes
    -----
    ``RR = sigma(Delta_c = +delta) - sigma(Delta_p = -delta)``,
    ``BF = (sigma(Delta_c = +delta) + sigma(Delta_p = -delta)) / 2 - sigma_ATM``,
    ``skew = RR / sigma_ATM``. The wing strikes solve ``N(d1(k)) = delta`` (call) and
    ``N(d1(k)) - 1 = -delta`` (put) with ``d1 = -k / sqrt(w(k,t)) + sqrt(w(k,t)) / 2`` on the smile's own
    total variance (see :meth:`VolSurface.k_for_delta`). This BF is the simple "smile strangle" quote;
    the FX-market broker butterfly (strangle priced at a single vol) differs in steep smiles.

    References
    ----------
    U. Wystup, "FX Options and Structured Products", 2nd ed., Wiley 2017, ch. 1 (delta conventions,
    risk reversals and butterflies).
    """
    if not 0.0 < delta < 0.5:
        raise ValueError(f"delta must lie in (0, 0.5), got {delta}")
    tt = np.atleast_1d(np.asarray(t, dtype=np.float64))
    call = surface.implied_vol_delta(tt, np.full(tt.shape, delta), "call")
    put = surface.implied_vol_delta(tt, np.full(tt.shape, -delta), "put")
    atm = surface.atm_vol(tt)
    return SkewMetrics(t=tt, delta=float(delta), atm_vol=atm, call_vol=call, put_vol=put)
