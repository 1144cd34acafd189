"""Black-76 kernels: mpmath references, the normalised Black function by region, special functions, inputs."""

from __future__ import annotations

import math
from pathlib import Path

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from cryptoderiv.pricing import _black_core as core
from cryptoderiv.pricing import _black_core as nm
from cryptoderiv.pricing import black76

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "black_reference.csv"
GREEKS = ["delta", "gamma", "vega", "theta", "rho", "vanna", "volga"]
TINY = 1e-290  # below this the float64 reference itself has lost relative precision (subnormal range)


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    table = pd.read_csv(REFERENCE)
    return table[table.model == "black76"].reset_index(drop=True)


@pytest.fixture(scope="module")
def ours(ref: pd.DataFrame) -> dict[str, np.ndarray]:
    return black76.price_and_greeks(
        ref.kind.to_numpy(),
        ref.underlying.to_numpy(),
        ref.strike.to_numpy(),
        ref.t.to_numpy(),
        ref.vol.to_numpy(),
        ref.discount_factor.to_numpy(),
    )


def _greek_tolerance(ref: pd.DataFrame, name: str) -> np.ndarray:
    """1e-10 relative, plus an absolute floor where a greek crosses zero (its terms cancel).

    theta = -D F phi sigma / (2 sqrt t) + r V: floor 1e-13 x (|decay| + |r V|).  vanna and volga carry the
    factors d2 and d1 d2, whose absolute rounding is ~1e-16 (|x|/s + s): floor 1e-12 x the greek without them.
    """
    f, k, t, v, d = (ref[c].to_numpy() for c in ("underlying", "strike", "t", "vol", "discount_factor"))
    s = v * np.sqrt(t)
    x = np.log(f / k)
    d1 = x / s + s / 2
    d2 = d1 - s
    pdf1 = np.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi)
    rel = 1e-10 * np.abs(ref[name].to_numpy())
    if name == "theta":
        decay = 0.5 * d * f * pdf1 * v / np.sqrt(t)
        carry = np.abs(np.log(d) / t * ref.price.to_numpy())
        return rel + 1e-13 * (decay + carry)
    if name == "vanna":
        return rel + 1e-12 * d * pdf1 / v * (1 + np.abs(d1) + np.abs(d2))
    if name == "volga":
        vega = d * f * pdf1 * np.sqrt(t)
        return rel + 1e-12 * vega / v * (1 + np.abs(d1)) * (1 + np.abs(d2))
    return rel


def test_reference_table_is_broad(ref: pd.DataFrame) -> None:
    x = np.log(ref.underlying / ref.strike)
    assert len(ref) > 1000
    assert x.min() <= -5 and x.max() >= 5  # deep ITM and OTM
    assert ref.t.min() < 1e-3 and ref.t.max() >= 30  # one hour .. 30 years
    assert ref.vol.min() <= 0.01 and ref.vol.max() >= 5
    usable = ref.price.abs() >= TINY
    assert (ref.price[usable] < 1e-100).sum() > 20  # far out-of-the-money tails are in the table


def test_prices_match_mpmath_to_1e12(ref: pd.DataFrame, ours: dict[str, np.ndarray]) -> None:
    expected = ref.price.to_numpy()
    use = np.abs(expected) >= TINY
    rel = np.abs(ours["price"][use] - expected[use]) / np.abs(expected[use])
    assert use.sum() > 900
    assert rel.max() <= 1e-12, f"worst case {ref.case[use].to_numpy()[rel.argmax()]}: {rel.max():.3g}"
    # prices that underflow in the reference are at most subnormal here too
    assert np.all(np.abs(ours["price"][~use]) < 1e-280)


@pytest.mark.parametrize("name", GREEKS)
def test_greeks_match_mpmath_to_1e10(ref: pd.DataFrame, ours: dict[str, np.ndarray], name: str) -> None:
    expected = ref[name].to_numpy()
    use = (np.abs(expected) >= TINY) & np.isfinite(expected)
    err = np.abs(ours[name][use] - expected[use])
    tol = _greek_tolerance(ref, name)[use]
    assert use.sum() > 700
    assert np.all(err <= tol), f"worst case {ref.case[use].to_numpy()[np.argmax(err / tol)]}"
    # the floor only matters at zero crossings: 99 % of entries meet the plain relative bound
    assert np.mean(err <= 1e-10 * np.abs(expected[use])) > 0.99


def _b_mp(x: float, s: float) -> mp.mpf:
    xm, sm = mp.mpf(x), mp.mpf(s)
    return mp.exp(xm / 2) * mp.ncdf(xm / sm + sm / 2) - mp.exp(-xm / 2) * mp.ncdf(xm / sm - sm / 2)


@pytest.mark.parametrize(
    ("region", "h_range", "t_range"),
    [
        ("A asymptotic", (-37.0, -10.5), (0.001, 0.99)),
        ("B small t", (-10.0, 0.0), (1e-5, 0.2)),
        ("C near money", (-0.8, 0.0), (1.0, 6.0)),
        ("D erfcx", (-9.0, -0.2), (0.25, 3.0)),
    ],
)
def test_normalised_black_by_region(region: str, h_range: tuple, t_range: tuple) -> None:
    """b(x, s) against 50-digit mpmath inside each evaluation region (h = x/s, t = s/2)."""
    rng = np.random.default_rng(7)
    worst = 0.0
    with mp.workdps(50):
        for _ in range(150):
            h = rng.uniform(*h_range)
            t = math.exp(rng.uniform(math.log(t_range[0]), math.log(t_range[1])))
            s = 2 * t
            x = h * s
            if x > 0:
                continue
            got = core.normalised_black(x, s, 1.0)
            want = _b_mp(x, s)
            worst = max(worst, abs(got / float(want) - 1))
    # the exponent (h^2 + t^2)/2 is rounded once: up to ~700 * 2.2e-16 far in the tail
    assert worst < (3e-13 if region.startswith("A") else 2e-14), f"{region}: {worst:.3g}"


def test_normalised_black_put_call_symmetry_and_intrinsic() -> None:
    for x in (-2.0, -0.3, 0.0, 0.4, 3.0):
        for s in (0.01, 0.3, 2.0):
            call = core.normalised_black(x, s, 1.0)
            put = core.normalised_black(x, s, -1.0)
            assert put == pytest.approx(core.normalised_black(-x, s, 1.0), rel=1e-15)
            assert call - put == pytest.approx(2 * math.sinh(x / 2), rel=1e-12, abs=1e-15)


def test_erfcx_and_normal_cdf_against_mpmath() -> None:
    rng = np.random.default_rng(3)
    xs = np.concatenate([rng.uniform(-26, 0, 300), rng.uniform(0, 10, 300), np.exp(rng.uniform(2, 25, 200))])
    with mp.workdps(40):
        rel = [abs(nm.erfcx(x) / float(mp.exp(mp.mpf(x) ** 2) * mp.erfc(mp.mpf(x))) - 1) for x in xs]
        zs = rng.uniform(-38, 8, 600)
        rel_cdf = [abs(nm.norm_cdf(z) / float(mp.ncdf(mp.mpf(z))) - 1) for z in zs]
        lps = -np.exp(rng.uniform(-5, 9, 200))
        rel_ppf = []
        for lp in lps:
            z = nm.norm_ppf_from_log(lp)
            rel_ppf.append(abs(float(mp.log(mp.ncdf(mp.mpf(z)))) / lp - 1))
    assert max(rel) < 5e-16
    assert max(rel_cdf) < 1e-15
    assert max(rel_ppf) < 1e-13
    assert nm.norm_cdf(-40.0) == 0.0 and nm.norm_cdf(40.0) == 1.0
    assert nm.erfcx(math.inf) == 0.0 and math.isnan(nm.erfcx(math.nan))


def test_erfcx_table_regenerates_bit_for_bit() -> None:
    assert np.array_equal(nm.generate_erfcx_table(), nm._ERFCX_TABLE)


def test_log_ratio_is_exact_to_the_last_bit() -> None:
    rng = np.random.default_rng(11)
    a = np.exp(rng.uniform(-5, 12, 300))
    b = a * np.exp(rng.uniform(-0.02, 0.02, 300))
    with mp.workdps(40):
        for ai, bi in zip(a, b, strict=True):
            exact = mp.log(mp.mpf(ai) / mp.mpf(bi))
            assert abs(core.log_ratio(ai, bi) - float(exact)) <= 2.3e-16 * max(abs(float(exact)), 1e-3)


def test_deep_out_of_the_money_tail_is_not_zero() -> None:
    p = black76.price("call", 100.0, [150.0, 300.0, 1000.0], 0.1, 0.2)
    assert np.all(p > 0)
    assert p[2] < 1e-200  # computed, not rounded to 0 by 1 - Phi cancellation


def test_zero_time_or_zero_vol_is_discounted_intrinsic() -> None:
    kinds = ["call", "put", "call", "put"]
    p = black76.price(kinds, 100.0, [90.0, 90.0, 110.0, 110.0], [0.0, 0.0, 1.0, 1.0], [0.5, 0.5, 0.0, 0.0], 0.9)
    assert p == pytest.approx([9.0, 0.0, 0.0, 9.0])


def test_invalid_inputs_give_nan_not_exceptions() -> None:
    bad = black76.price(
        "call",
        [100.0, -1.0, 100.0, 100.0, 100.0, np.nan, np.inf],
        [100.0, 100.0, 0.0, 100.0, 100.0, 100.0, 100.0],
        [1.0, 1.0, 1.0, -1.0, 1.0, 1.0, 1.0],
        [0.2, 0.2, 0.2, 0.2, -0.2, 0.2, 0.2],
    )
    assert np.isfinite(bad[0]) and np.all(np.isnan(bad[1:]))
    g = black76.greeks("put", 100.0, 100.0, 1.0, 0.2, discount_factor=[1.0, 0.0])
    assert all(np.isfinite(v[0]) and np.isnan(v[1]) for v in g.values())


def test_broadcasting_and_scalar_results() -> None:
    p = black76.price("call", np.array([[90.0], [110.0]]), np.array([80.0, 100.0, 120.0]), 0.5, 0.3)
    assert p.shape == (2, 3) and p.dtype == np.float64
    scalar = black76.price("put", 100, 100, 1, 0.2)
    assert isinstance(scalar, np.float64)
    g = black76.greeks(["call", "put"], 100.0, 100.0, 1.0, 0.2)
    assert set(g) == set(GREEKS) and all(v.shape == (2,) for v in g.values())
    assert set(black76.price_and_greeks("call", 100.0, 100.0, 1.0, 0.2)) == {"price", *GREEKS}


def test_kind_spellings() -> None:
    want = black76.price(["call", "put"], 100.0, 105.0, 1.0, 0.2)
    spellings = (["c", "p"], ["CALL", " Put "], [1, -1], np.array([1.0, -1.0]), np.array(["call", "put"], dtype=object))
    for kinds in spellings:
        assert np.array_equal(black76.price(kinds, 100.0, 105.0, 1.0, 0.2), want)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "straddle"}, "kind"),
        ({"kind": ["call", "cal"]}, "kind"),
        ({"kind": [1, 0]}, "kind"),
        ({"forward": np.ones(3), "strike": np.ones(2)}, "forward (3,), strike (2,)"),
        ({"vol": "high"}, "vol"),
    ],
)
def test_unreadable_arguments_raise_value_error_naming_them(kwargs: dict, message: str) -> None:
    args = {"kind": "call", "forward": 100.0, "strike": 100.0, "t": 1.0, "vol": 0.2} | kwargs
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        black76.price(**args)


def test_parallel_and_serial_paths_agree() -> None:
    rng = np.random.default_rng(5)
    n = core.PARALLEL_THRESHOLD + 17
    kind = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    args = (kind, 100.0, 100 * np.exp(rng.uniform(-1, 1, n)), rng.uniform(0.01, 3, n), rng.uniform(0.05, 2, n), 1.0)
    whole = black76.price_and_greeks(*args)
    part = black76.price_and_greeks(args[0][:100], 100.0, args[2][:100], args[3][:100], args[4][:100], 1.0)
    for key, values in part.items():
        assert np.array_equal(values, whole[key][:100])


def test_one_minus_mills_keeps_relative_accuracy() -> None:
    """a = 1 + h Y(h) = 1 - sqrt(pi) x erfcx(x) (x = -h/sqrt 2) tends to 0 like 1/(2 x^2): no cancellation."""
    rng = np.random.default_rng(9)
    xs = np.concatenate([rng.uniform(0, 2, 200), rng.uniform(2, 30, 300), np.exp(rng.uniform(3.4, 20, 100))])
    with mp.workdps(50):
        worst = max(
            abs(nm.one_minus_mills(x) / float(1 - mp.sqrt(mp.pi) * x * mp.erfc(x) * mp.exp(mp.mpf(x) ** 2)) - 1)
            for x in xs
        )
    assert worst < 1e-15
    assert np.array_equal(nm.generate_erfcx_table(function="mills"), nm._MILLS_TABLE)
