"""ATM term structure (quotes and surface), constant-maturity interpolation, delta skew metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import ndtr

from cryptoderiv.analytics.skew import delta_skew
from cryptoderiv.analytics.term_structure import (
    TermStructureError,
    atm_term_structure,
    atm_term_structure_from_quotes,
    constant_maturity_vol,
)
from cryptoderiv.surface.chain import OptionChain
from cryptoderiv.surface.svi import SVIParams
from cryptoderiv.surface.vol_surface import SmileSlice, VolSurface


def test_constant_maturity_interpolates_total_variance_linearly() -> None:
    t = np.array([10, 40]) / 365
    v = np.array([0.4, 0.6])
    got = constant_maturity_vol(t, v, [10, 30, 40])
    w30 = 0.16 * 10 / 365 + (0.36 * 40 / 365 - 0.16 * 10 / 365) * (20 / 30)
    assert got == pytest.approx([0.4, math.sqrt(w30 / (30 / 365)), 0.6], rel=1e-14)


def test_constant_maturity_extrapolation_modes() -> None:
    t = np.array([10, 40]) / 365
    v = np.array([0.4, 0.6])
    assert constant_maturity_vol(t, v, [7, 90]) == pytest.approx([0.4, 0.6])
    assert np.isnan(constant_maturity_vol(t, v, [7, 90], extrapolate="nan")).all()
    assert constant_maturity_vol(t[::-1], v[::-1], [30]) == pytest.approx(constant_maturity_vol(t, v, [30]))
    with pytest.raises(TermStructureError):
        constant_maturity_vol(t, [np.nan, np.nan], [30])


def test_atm_from_quotes_interpolates_in_log_moneyness() -> None:
    # one expiry, F = 100; OTM quotes: put K=95 (iv 0.6), call K=105 (iv 0.5), far strikes
    K = np.array([80.0, 95.0, 105.0, 120.0, 95.0])
    calls = np.array([False, False, True, True, True])   # the 95 call is ITM and ignored
    iv = np.array([0.8, 0.6, 0.5, 0.55, 0.1])
    t = 0.1
    n = K.size
    chain = OptionChain(t=np.full(n, t), strike=K, forward=np.full(n, 100.0), is_call=calls, bid=np.ones(n),
                        ask=np.ones(n), mark=np.ones(n), mark_iv=iv, open_interest=np.ones(n), volume=np.ones(n),
                        spot=100.0)
    ts = atm_term_structure_from_quotes(chain)
    k0, k1 = math.log(0.95), math.log(1.05)
    w = 0.36 * t + (0.25 * t - 0.36 * t) * (0 - k0) / (k1 - k0)
    assert ts.atm_vol[0] == pytest.approx(math.sqrt(w / t), rel=1e-13)
    assert ts.total_variance[0] == pytest.approx(w, rel=1e-13)


def _flat_surface(vols: dict[float, float]) -> VolSurface:
    return VolSurface([SmileSlice(t=t, forward=100.0, params=SVIParams(a=v * v * t, b=0.0, rho=0.0, m=0.0,
                                                                        sigma=0.1)) for t, v in vols.items()],
                      spot=100.0)


def test_atm_term_structure_of_a_surface() -> None:
    s = _flat_surface({0.05: 0.7, 0.2: 0.5})
    ts = atm_term_structure(s)
    assert ts.atm_vol == pytest.approx([0.7, 0.5])
    assert ts.constant_maturity([18.25])[0] == pytest.approx(0.7)          # 18.25 days = 0.05 years


def test_flat_smile_has_zero_risk_reversal_and_butterfly() -> None:
    m = delta_skew(_flat_surface({30 / 365: 0.5}), [30 / 365])
    assert m.risk_reversal == pytest.approx([0.0], abs=1e-12)
    assert m.butterfly == pytest.approx([0.0], abs=1e-12)
    assert m.atm_vol == pytest.approx([0.5])


def test_call_skew_gives_positive_risk_reversal_and_smile_positive_butterfly() -> None:
    t = 30 / 365
    # rho > 0: upside wing richer (typical crypto rallies); symmetric smile (rho = 0): RR = 0, BF > 0
    up = VolSurface([SmileSlice(t=t, forward=100.0, params=SVIParams(0.015, 0.05, 0.5, 0.0, 0.1))], spot=100.0)
    sym = VolSurface([SmileSlice(t=t, forward=100.0, params=SVIParams(0.015, 0.05, 0.0, 0.0, 0.1))], spot=100.0)
    mu = delta_skew(up, t)
    ms = delta_skew(sym, t)
    assert mu.risk_reversal[0] > 0.005 and mu.normalized_skew[0] == pytest.approx(mu.risk_reversal[0] / mu.atm_vol[0])
    assert ms.butterfly[0] > 0.0 and mu.normalized_butterfly[0] > 0.0
    # independent check: solve N(d1(k)) = 0.25 and N(d1(k)) - 1 = -0.25 with brentq on the smile
    p = sym.slices[0].params

    def delta_call(k: float) -> float:
        sw = math.sqrt(float(p.total_variance(k)))
        return float(ndtr(-k / sw + 0.5 * sw))

    k_c = brentq(lambda k: delta_call(k) - 0.25, -1, 1, xtol=1e-14)
    k_p = brentq(lambda k: delta_call(k) - 0.75, -1, 1, xtol=1e-14)
    vol = lambda k: math.sqrt(float(p.total_variance(k)) / t)  # noqa: E731
    assert ms.risk_reversal[0] == pytest.approx(vol(k_c) - vol(k_p), abs=1e-10)
    assert ms.butterfly[0] == pytest.approx(0.5 * (vol(k_c) + vol(k_p)) - vol(0.0), abs=1e-10)
    # a smile symmetric in k is not symmetric in delta (d1 carries +sqrt(w)/2): the call wing sits further out
    assert ms.risk_reversal[0] > 0
    with pytest.raises(ValueError):
        delta_skew(sym, t, delta=0.6)
