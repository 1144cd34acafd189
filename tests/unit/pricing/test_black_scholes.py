"""Black-Scholes-Merton kernels: mpmath references, consistency with Black-76, QuantLib cross-check."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.pricing import black76, black_scholes

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "black_reference.csv"
GREEKS = ["delta", "gamma", "vega", "theta", "rho", "vanna", "volga"]
TINY = 1e-290


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    table = pd.read_csv(REFERENCE)
    return table[table.model == "bsm"].reset_index(drop=True)


@pytest.fixture(scope="module")
def ours(ref: pd.DataFrame) -> dict[str, np.ndarray]:
    cols = ("kind", "underlying", "strike", "t", "rate", "vol", "div_yield")
    return black_scholes.price_and_greeks(*(ref[c].to_numpy() for c in cols))


def _tolerance(ref: pd.DataFrame, name: str) -> np.ndarray:
    """1e-10 relative plus zero-crossing floors (see test_black76._greek_tolerance for the reasoning)."""
    sp, k, t, r, v, q = (ref[c].to_numpy() for c in ("underlying", "strike", "t", "rate", "vol", "div_yield"))
    s = v * np.sqrt(t)
    d1 = (np.log(sp / k) + (r - q) * t) / s + s / 2
    d2 = d1 - s
    pdf1 = np.exp(-0.5 * d1 * d1 - q * t) / math.sqrt(2 * math.pi)
    rel = 1e-10 * np.abs(ref[name].to_numpy())
    if name == "theta":
        terms = 0.5 * sp * pdf1 * v / np.sqrt(t) + np.abs(r) * k * np.exp(-r * t) + np.abs(q) * sp * np.exp(-q * t)
        return rel + 1e-13 * terms
    if name == "vanna":
        return rel + 1e-12 * pdf1 / v * (1 + np.abs(d1) + np.abs(d2))
    if name == "volga":
        return rel + 1e-12 * sp * pdf1 * np.sqrt(t) / v * (1 + np.abs(d1)) * (1 + np.abs(d2))
    return rel


def test_prices_match_mpmath_to_1e12(ref: pd.DataFrame, ours: dict[str, np.ndarray]) -> None:
    expected = ref.price.to_numpy()
    use = np.abs(expected) >= TINY
    rel = np.abs(ours["price"][use] - expected[use]) / np.abs(expected[use])
    assert use.sum() > 500
    assert rel.max() <= 1e-12, f"worst case {ref.case[use].to_numpy()[rel.argmax()]}: {rel.max():.3g}"


@pytest.mark.parametrize("name", GREEKS)
def test_greeks_match_mpmath_to_1e10(ref: pd.DataFrame, ours: dict[str, np.ndarray], name: str) -> None:
    expected = ref[name].to_numpy()
    use = (np.abs(expected) >= TINY) & np.isfinite(expected)
    err = np.abs(ours[name][use] - expected[use])
    tol = _tolerance(ref, name)[use]
    assert np.all(err <= tol), f"worst case {ref.case[use].to_numpy()[np.argmax(err / tol)]}"
    assert np.mean(err <= 1e-10 * np.abs(expected[use])) > 0.99


def test_rates_and_yields_of_both_signs_are_covered(ref: pd.DataFrame) -> None:
    assert ref.rate.min() < 0 < ref.rate.max()
    assert ref.div_yield.min() < 0 < ref.div_yield.max()


def test_black_scholes_is_black76_on_the_forward() -> None:
    rng = np.random.default_rng(1)
    n = 500
    kind = np.where(rng.random(n) < 0.5, "call", "put")
    spot, strike = 100.0, 100 * np.exp(rng.uniform(-1, 1, n))
    t, r, q, v = rng.uniform(0.01, 5, n), rng.uniform(-0.02, 0.1, n), rng.uniform(0, 0.05, n), rng.uniform(0.05, 1.5, n)
    bs = black_scholes.price_and_greeks(kind, spot, strike, t, r, v, q)
    fwd = spot * np.exp((r - q) * t)
    b76 = black76.price_and_greeks(kind, fwd, strike, t, v, np.exp(-r * t))
    assert bs["price"] == pytest.approx(b76["price"], rel=1e-11, abs=1e-13)
    # spot delta = forward delta * dF/dS = forward delta * e^{(r-q)t}
    assert bs["delta"] == pytest.approx(b76["delta"] * fwd / spot, rel=1e-11, abs=1e-15)
    assert bs["vega"] == pytest.approx(b76["vega"], rel=1e-11)
    assert bs["gamma"] == pytest.approx(b76["gamma"] * (fwd / spot) ** 2, rel=1e-10)


def test_against_quantlib_analytic_european_engine() -> None:
    ql = pytest.importorskip("QuantLib")
    today = ql.Date(15, 1, 2025)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    cases = [
        ("call", 100.0, 100.0, 365, 0.05, 0.2, 0.0),
        ("put", 100.0, 120.0, 30, 0.01, 0.6, 0.02),
        ("call", 50000.0, 65000.0, 90, 0.0, 0.8, 0.0),
        ("put", 3000.0, 2000.0, 7, 0.03, 1.2, 0.05),
    ]
    for kind, s, k, days, r, v, q in cases:
        t = days / 365.0
        opt = ql.EuropeanOption(
            ql.PlainVanillaPayoff(ql.Option.Call if kind == "call" else ql.Option.Put, k),
            ql.EuropeanExercise(today + days),
        )
        process = ql.BlackScholesMertonProcess(
            ql.QuoteHandle(ql.SimpleQuote(s)),
            ql.YieldTermStructureHandle(ql.FlatForward(today, q, dc)),
            ql.YieldTermStructureHandle(ql.FlatForward(today, r, dc)),
            ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), v, dc)),
        )
        opt.setPricingEngine(ql.AnalyticEuropeanEngine(process))
        g = black_scholes.price_and_greeks(kind, s, k, t, r, v, q)
        assert g["price"] == pytest.approx(opt.NPV(), rel=1e-9)
        assert g["delta"] == pytest.approx(opt.delta(), rel=1e-9)
        assert g["gamma"] == pytest.approx(opt.gamma(), rel=1e-9)
        assert g["vega"] == pytest.approx(opt.vega(), rel=1e-9)
        assert g["rho"] == pytest.approx(opt.rho(), rel=1e-9)
        assert g["theta"] == pytest.approx(opt.theta(), rel=1e-9)


def test_invalid_inputs_give_nan() -> None:
    rates, vols = [0.05, 0.05, np.inf, 0.05], [0.2, 0.2, 0.2, np.nan]
    p = black_scholes.price("call", [100.0, 0.0, 100.0, 100.0], 100.0, 1.0, rates, vols)
    assert np.isfinite(p[0]) and np.all(np.isnan(p[1:]))


def test_unknown_kind_and_bad_shapes_raise() -> None:
    with pytest.raises(ValueError, match="kind"):
        black_scholes.price("digital", 100.0, 100.0, 1.0, 0.0, 0.2)
    with pytest.raises(ValueError, match=r"spot \(2,\), strike \(3,\)"):
        black_scholes.greeks("call", [1.0, 2.0], [1.0, 2.0, 3.0], 1.0, 0.0, 0.2)


def test_zero_vol_is_discounted_forward_intrinsic() -> None:
    p = black_scholes.price(["call", "put"], 100.0, 100.0, 1.0, 0.05, 0.0, 0.0)
    assert p[0] == pytest.approx(100.0 - 100.0 * math.exp(-0.05))
    assert p[1] == 0.0
