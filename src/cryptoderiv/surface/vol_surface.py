"""An implied-volatility surface: raw SVI slices per expiry joined by total-variance interpolation.

Query by ``(t, strike)``, ``(t, log-moneyness)`` or ``(t, delta)``. Between two fitted expiries the
total variance at fixed log forward moneyness is linear in ``t`` (calendar-consistent when the slices
do not cross); before the first expiry the first slice's implied volatility is held (``w`` proportional
to ``t``), after the last the last slice's. The forward is log-linear in ``t`` through the fitted
expiries' forwards, anchored at the spot for ``t = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

from cryptoderiv.errors import CryptoderivError
from cryptoderiv.pricing.implied_vol import implied_vol
from cryptoderiv.surface.chain import LiquidityFilter, OptionChain
from cryptoderiv.surface.svi import SVIError, SVIFit, SVIParams, fit_svi

FloatArray = npt.NDArray[np.float64]
Weighting = Literal["spread", "vega", "equal"]
Target = Literal["mid", "mark"]


class SurfaceError(CryptoderivError):
    """A surface cannot be built or queried (no fitted expiry, bad query)."""


@dataclass(frozen=True, slots=True)
class SmileSlice:
    """One fitted expiry of a :class:`VolSurface`.

    Parameters
    ----------
    t : float
        Time to expiry, ACT/365 years (> 0).
    forward : float
        Forward of the expiry (> 0).
    params : SVIParams
        Raw SVI parameters in total variance.
    fit : SVIFit or None
        Fit diagnostics when the slice was calibrated.
    """

    t: float
    forward: float
    params: SVIParams
    fit: SVIFit | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.t) and self.t > 0):
            raise SurfaceError(f"slice maturity must be > 0, got {self.t}")
        if not (np.isfinite(self.forward) and self.forward > 0):
            raise SurfaceError(f"slice forward must be > 0, got {self.forward}")


def _forward_delta_k(w: FloatArray, delta: FloatArray, is_call: npt.NDArray[np.bool_]) -> FloatArray:
    """Log-moneyness at which the undiscounted Black forward delta equals ``delta`` for fixed ``w``."""
    # call: N(d1) = delta, put: N(d1) - 1 = delta; d1 = -k/sqrt(w) + sqrt(w)/2
    p = np.where(is_call, delta, delta + 1.0)
    sw = np.sqrt(w)
    return sw * (0.5 * sw - ndtri(p))


class VolSurface:
    """Implied-volatility surface made of SVI slices.

    Parameters
    ----------
    slices : sequence of SmileSlice
        At least one slice; sorted by maturity here; maturities must be distinct.
    spot : float
        Spot (index) price, the forward at ``t = 0``.

    Notes
    -----
    For ``t_i <= t <= t_{i+1}`` and ``lam = (t - t_i) / (t_{i+1} - t_i)``:
    ``w(k, t) = (1 - lam) w_i(k) + lam w_{i+1}(k)`` and
    ``ln F(t) = (1 - lam) ln F_i + lam ln F_{i+1}``. This is the linear-in-time total variance
    interpolation at constant log forward moneyness; it is free of calendar arbitrage iff the fitted
    slices are ordered, ``w_{i+1}(k) >= w_i(k)`` (Gatheral & Jacquier 2014, Prop. 2.1; check with
    :func:`cryptoderiv.surface.arbitrage.surface_calendar_violations`).

    References
    ----------
    J. Gatheral and A. Jacquier, "Arbitrage-free SVI volatility surfaces", Quant. Finance 14(1), 2014.
    """

    def __init__(self, slices: list[SmileSlice] | tuple[SmileSlice, ...], spot: float) -> None:
        if not slices:
            raise SurfaceError("a surface needs at least one slice")
        if not (np.isfinite(spot) and spot > 0):
            raise SurfaceError(f"spot must be > 0, got {spot}")
        ordered = tuple(sorted(slices, key=lambda s: s.t))
        ts = np.array([s.t for s in ordered])
        if np.any(np.diff(ts) <= 0):
            raise SurfaceError("slice maturities must be distinct")
        self.slices: tuple[SmileSlice, ...] = ordered
        self.spot = float(spot)
        self.times: FloatArray = ts
        self._log_fwd = np.log(np.array([s.forward for s in ordered]))

    def __repr__(self) -> str:
        return f"VolSurface({len(self.slices)} slices, t in [{self.times[0]:.4f}, {self.times[-1]:.4f}])"

    # -- forward ---------------------------------------------------------------------------------
    def forward(self, t: npt.ArrayLike) -> FloatArray:
        """Forward at maturity ``t``: log-linear through ``(0, spot)`` and the slices' forwards.

        Beyond the last slice the last segment's log-forward slope (the carry) is extended.
        """
        tt = np.asarray(t, dtype=np.float64)
        xs = np.concatenate([[0.0], self.times])
        ys = np.concatenate([[np.log(self.spot)], self._log_fwd])
        out = np.interp(tt, xs, ys)
        slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
        out = np.where(tt > xs[-1], ys[-1] + slope * (tt - xs[-1]), out)
        return np.exp(out)

    # -- total variance ----------------------------------------------------------------------------
    def _slice_w(self, k: FloatArray) -> FloatArray:
        """Total variance of every slice at ``k``: shape ``(n_slices,) + k.shape``."""
        return np.stack([s.params.total_variance(k) for s in self.slices])

    def total_variance(self, t: npt.ArrayLike, k: npt.ArrayLike) -> FloatArray:
        """Total implied variance ``w(k, t)`` (broadcast over ``t`` and ``k``).

        Parameters
        ----------
        t : array_like
            Maturity in years (> 0).
        k : array_like
            Log forward moneyness ``ln(K / F(t))``.

        Returns
        -------
        numpy.ndarray
            ``w(k, t)``, interpolated as described in the class notes.
        """
        tt, kk = np.broadcast_arrays(np.asarray(t, dtype=np.float64), np.asarray(k, dtype=np.float64))
        if np.any(~(tt > 0)):
            raise SurfaceError("maturities must be > 0")
        W = self._slice_w(kk)                                    # (n, ...)
        n = self.times.size
        if n == 1:
            return W[0] * tt / self.times[0]
        i = np.clip(np.searchsorted(self.times, tt, side="right") - 1, 0, n - 2)
        t0, t1 = self.times[i], self.times[i + 1]
        w0 = np.take_along_axis(W, i[None, ...], axis=0)[0]
        w1 = np.take_along_axis(W, (i + 1)[None, ...], axis=0)[0]
        lam = (tt - t0) / (t1 - t0)
        inner = (1.0 - lam) * w0 + lam * w1
        before = W[0] * tt / self.times[0]
        after = W[-1] * tt / self.times[-1]
        return np.where(tt < self.times[0], before, np.where(tt > self.times[-1], after, inner))

    def implied_vol_k(self, t: npt.ArrayLike, k: npt.ArrayLike) -> FloatArray:
        """Implied volatility at maturity ``t`` and log forward moneyness ``k``."""
        tt = np.asarray(t, dtype=np.float64)
        return np.sqrt(np.maximum(self.total_variance(tt, k), 0.0) / tt)

    def implied_vol(self, t: npt.ArrayLike, strike: npt.ArrayLike) -> FloatArray:
        """Implied volatility at maturity ``t`` (years) and ``strike`` (USD)."""
        tt = np.asarray(t, dtype=np.float64)
        k = np.log(np.asarray(strike, dtype=np.float64) / self.forward(tt))
        return self.implied_vol_k(tt, k)

    def atm_vol(self, t: npt.ArrayLike) -> FloatArray:
        """Forward-ATM implied volatility (``K = F(t)``, ``k = 0``)."""
        return self.implied_vol_k(t, 0.0)

    # -- delta queries -------------------------------------------------------------------------------
    def k_for_delta(
        self, t: npt.ArrayLike, delta: npt.ArrayLike, kind: npt.ArrayLike = "call", *, iterations: int = 40
    ) -> FloatArray:
        """Log-moneyness whose undiscounted Black forward delta equals ``delta``.

        Parameters
        ----------
        t : array_like
            Maturity in years.
        delta : array_like
            Target forward delta: in ``(0, 1)`` for calls, ``(-1, 0)`` for puts (e.g. 0.25 / -0.25).
        kind : array_like of str, default "call"
            ``"call"`` or ``"put"``.
        iterations : int, default 40
            Fixed-point iterations.

        Returns
        -------
        numpy.ndarray
            ``k`` with ``N(d1(k)) = delta`` (call) or ``N(d1(k)) - 1 = delta`` (put), where
            ``d1 = -k / sqrt(w(k, t)) + sqrt(w(k, t)) / 2`` uses the smile's own ``w(k, t)``.

        Notes
        -----
        Solved by the fixed point ``k <- sqrt(w(k)) (sqrt(w(k))/2 - N^{-1}(delta'))`` started at the
        ATM variance, which contracts for smiles with ``|dw/dk|`` well below the Lee bound; the
        residual in delta is returned as NaN when it exceeds 1e-8 after ``iterations`` steps.
        The delta is the forward (Black-76, undiscounted, not premium-adjusted) delta, the one in
        Deribit's ``delta`` field.
        """
        tt, dd, kind_arr = np.broadcast_arrays(
            np.asarray(t, dtype=np.float64), np.asarray(delta, dtype=np.float64), np.asarray(kind)
        )
        is_call = np.char.lower(kind_arr.astype(str)) == "call"
        bad = np.where(is_call, (dd <= 0) | (dd >= 1), (dd >= 0) | (dd <= -1))
        k = np.zeros_like(tt)
        for _ in range(iterations):
            w = np.maximum(self.total_variance(tt, k), 1e-300)
            k_new = _forward_delta_k(w, dd, is_call)
            k_new = np.where(np.isfinite(k_new), k_new, k)
            k = 0.5 * k + 0.5 * k_new  # damped: robust with steep wings
        w = np.maximum(self.total_variance(tt, k), 1e-300)
        sw = np.sqrt(w)
        d1 = -k / sw + 0.5 * sw
        achieved = np.where(is_call, ndtr(d1), ndtr(d1) - 1.0)
        return np.where(bad | (np.abs(achieved - dd) > 1e-8), np.nan, k)

    def implied_vol_delta(
        self, t: npt.ArrayLike, delta: npt.ArrayLike, kind: npt.ArrayLike = "call"
    ) -> FloatArray:
        """Implied volatility at a forward delta (see :meth:`k_for_delta`)."""
        tt = np.asarray(t, dtype=np.float64)
        k = self.k_for_delta(tt, delta, kind)
        return self.implied_vol_k(tt, k)

    def strike_for_delta(
        self, t: npt.ArrayLike, delta: npt.ArrayLike, kind: npt.ArrayLike = "call"
    ) -> FloatArray:
        """Strike (USD) at a forward delta (see :meth:`k_for_delta`)."""
        tt = np.asarray(t, dtype=np.float64)
        return self.forward(tt) * np.exp(self.k_for_delta(tt, delta, kind))


# ---------------------------------------------------------------------------------------------------
# Calibration from a chain
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class QuoteIVs:
    """Bid, ask and mid implied volatilities of a chain's rows (decimal; NaN where none)."""

    bid: FloatArray
    ask: FloatArray

    @property
    def mid(self) -> FloatArray:
        """``(bid_iv + ask_iv) / 2``."""
        return 0.5 * (self.bid + self.ask)

    @property
    def spread(self) -> FloatArray:
        """``ask_iv - bid_iv``."""
        return self.ask - self.bid


def quote_ivs(chain: OptionChain, mask: npt.ArrayLike | None = None) -> QuoteIVs:
    """Black-76 implied volatilities of the bid and ask prices (rows outside ``mask`` are NaN).

    Parameters
    ----------
    chain : OptionChain
        Quotes (undiscounted USD prices).
    mask : array_like of bool, optional
        Rows to invert (default all).

    Returns
    -------
    QuoteIVs
        Bid and ask IV per row, from :func:`cryptoderiv.pricing.implied_vol.implied_vol` with
        discount factor 1.
    """
    sel = np.ones(len(chain), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    kind = np.where(chain.is_call[sel], "call", "put")
    out = []
    for price in (chain.bid, chain.ask):
        iv = np.full(len(chain), np.nan)
        p = price[sel]
        good = np.isfinite(p)
        vals = np.full(p.size, np.nan)
        if np.any(good):
            vals[good] = np.asarray(
                implied_vol(kind[good], p[good], chain.forward[sel][good], chain.strike[sel][good],
                            chain.t[sel][good], 1.0),
                dtype=np.float64,
            )
        iv[sel] = vals
        out.append(iv)
    return QuoteIVs(bid=out[0], ask=out[1])


@dataclass(frozen=True, slots=True)
class SurfaceFitConfig:
    """How :func:`fit_surface` calibrates.

    Parameters
    ----------
    liquidity : LiquidityFilter
        Quotes used in the fit.
    target : {"mid", "mark"}, default "mid"
        Fit the mid of bid and ask IV, or the exchange mark IV, of the liquid quotes.
    weighting : {"spread", "vega", "equal"}, default "spread"
        IV-error weights: ``1 / max(ask_iv - bid_iv, min_iv_spread)``, Black vega (price-error like),
        or equal.
    min_iv_spread : float, default 0.005
        Floor of the IV spread in the spread weights (0.5 vol point).
    min_points : int, default 5
        Expiries with fewer liquid quotes are not fitted.
    """

    liquidity: LiquidityFilter = field(default_factory=LiquidityFilter)
    target: Target = "mid"
    weighting: Weighting = "spread"
    min_iv_spread: float = 0.005
    min_points: int = 5

    def __post_init__(self) -> None:
        if self.target not in ("mid", "mark") or self.weighting not in ("spread", "vega", "equal"):
            raise SurfaceError(f"unknown target {self.target!r} or weighting {self.weighting!r}")
        if not (self.min_iv_spread > 0 and self.min_points >= 5):
            raise SurfaceError("min_iv_spread must be > 0 and min_points >= 5")


def fit_surface(
    chain: OptionChain, config: SurfaceFitConfig | None = None, ivs: QuoteIVs | None = None
) -> VolSurface:
    """Calibrate one raw SVI slice per expiry to the liquid quotes of ``chain``.

    Parameters
    ----------
    chain : OptionChain
        Quotes of one underlying.
    config : SurfaceFitConfig, optional
        Filter, target and weighting (defaults as documented there).
    ivs : QuoteIVs, optional
        Pre-computed bid/ask IVs of ``chain`` (computed on the liquid rows otherwise).

    Returns
    -------
    VolSurface
        Surface over the expiries with at least ``min_points`` liquid quotes.

    Raises
    ------
    SurfaceError
        When no expiry can be fitted.

    Notes
    -----
    Per expiry, with ``k = ln(K/F)`` and target IV ``s`` the fit minimises
    ``sum_i v_i (s_i - sigma_svi(k_i))**2`` through the total-variance form
    ``sum_i v_i / (2 s_i t)**2 (w_svi(k_i) - s_i**2 t)**2`` (first order in the IV error), with
    ``v_i = 1 / max(spread_i, floor)`` ("spread"), the Black vega ``F n(d1) sqrt(t)`` ("vega") or 1.
    """
    cfg = config or SurfaceFitConfig()
    liquid = cfg.liquidity.mask(chain)
    if ivs is None:
        ivs = quote_ivs(chain, liquid)
    target = ivs.mid if cfg.target == "mid" else chain.mark_iv
    usable = liquid & np.isfinite(target) & (target > 0)
    if cfg.weighting == "spread":
        usable &= np.isfinite(ivs.spread)
    k_all = chain.log_moneyness
    fwds = chain.expiry_forwards()
    slices: list[SmileSlice] = []
    for j, t in enumerate(chain.expiries):  # loop over expiries (~12), vectorised within
        rows = usable & (chain.expiry_index == j)
        if int(rows.sum()) < cfg.min_points:
            continue
        s = target[rows]
        k = k_all[rows]
        if cfg.weighting == "spread":
            v = 1.0 / np.maximum(ivs.spread[rows], cfg.min_iv_spread)
        elif cfg.weighting == "vega":
            sw = s * np.sqrt(t)
            d1 = -k / sw + 0.5 * sw
            v = fwds[j] * np.sqrt(t) * np.exp(-0.5 * d1 * d1) / np.sqrt(2.0 * np.pi)
        else:
            v = np.ones_like(s)
        omega = v / (2.0 * s * t) ** 2
        try:
            fit = fit_svi(k, s * s * t, omega)
        except SVIError:
            continue
        slices.append(SmileSlice(t=float(t), forward=float(fwds[j]), params=fit.params, fit=fit))
    if not slices:
        raise SurfaceError("no expiry has enough liquid quotes to fit")
    return VolSurface(slices, spot=chain.spot)
