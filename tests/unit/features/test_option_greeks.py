"""The pandas twin of the greeks job: known answers, inverse premium conversion, coin greeks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.features.option_greeks import (
    OUTPUT_SCHEMA,
    coin_premium_to_usd,
    compute_option_greeks,
    delta_bucket,
)
from cryptoderiv.features.synthetic import SyntheticChainSpec, greeks_input, smile_vol, synthetic_chain
from cryptoderiv.pricing import black76

F, K, T, VOL = 50_000.0, 55_000.0, 0.25, 0.6


def _quote(option_type: str, inverse: bool, **overrides: float) -> pd.DataFrame:
    usd = float(black76.price(option_type, F, K, T, VOL))
    scale = 1.0 / F if inverse else 1.0
    row = {"instrument_id": 1, "ts": pd.Timestamp("2026-11-02T00:00Z"), "option_type": option_type, "strike": K,
           "is_inverse": inverse, "bid": 0.98 * usd * scale, "ask": 1.02 * usd * scale, "mark": usd * scale,
           "underlying_price": F, "time_to_expiry": T}
    row.update(overrides)
    return pd.DataFrame([row])


@pytest.mark.parametrize("inverse", [True, False])
@pytest.mark.parametrize("option_type", ["call", "put"])
def test_mark_iv_recovers_the_pricing_vol(option_type: str, inverse: bool) -> None:
    out = compute_option_greeks(_quote(option_type, inverse))
    assert list(out.columns) == list(OUTPUT_SCHEMA)
    assert out["iv_mark"].iloc[0] == pytest.approx(VOL, abs=1e-12)
    assert out["iv_bid"].iloc[0] < VOL < out["iv_ask"].iloc[0]
    assert out["moneyness"].iloc[0] == pytest.approx(1.1)
    assert out["log_moneyness"].iloc[0] == pytest.approx(np.log(1.1))
    expected = black76.greeks(option_type, F, K, T, VOL)
    for name in ("delta", "gamma", "vega", "theta", "vanna", "volga"):
        assert out[name].iloc[0] == pytest.approx(float(expected[name]), rel=1e-12)


def test_coin_premium_is_usd_over_forward() -> None:
    # 0.05 BTC at a forward of 60,000 is 3,000 USD; a linear option's premium is already USD
    np.testing.assert_allclose(coin_premium_to_usd([0.05, 3000.0], [60_000.0, 60_000.0], [True, False]),
                               [3000.0, 3000.0])
    # reading an inverse premium as USD would give a vol near zero: the conversion must happen
    wrong = compute_option_greeks(_quote("call", True).assign(is_inverse=False))
    assert wrong["iv_mark"].iloc[0] < 0.1


def test_coin_greeks_are_derivatives_of_the_coin_premium() -> None:
    def coin_premium(f: float, vol: float = VOL) -> float:
        return float(black76.price("call", f, K, T, vol)) / f

    out = compute_option_greeks(_quote("call", True)).iloc[0]
    h, hv = 1e-4 * F, 1e-4
    # Deribit's net delta: F d(V/F)/dF = delta - premium in coin
    assert out["delta_coin"] == pytest.approx(F * (coin_premium(F + h) - coin_premium(F - h)) / (2 * h), rel=1e-7)
    assert out["gamma_coin"] == pytest.approx(
        (coin_premium(F + h) - 2 * coin_premium(F) + coin_premium(F - h)) / h**2, rel=1e-4)
    assert out["vega_coin"] == pytest.approx((coin_premium(F, VOL + hv) - coin_premium(F, VOL - hv)) / (2 * hv),
                                             rel=1e-6)
    cross = (coin_premium(F + h, VOL + hv) - coin_premium(F + h, VOL - hv)
             - coin_premium(F - h, VOL + hv) + coin_premium(F - h, VOL - hv)) / (4 * h * hv)
    assert out["vanna_coin"] == pytest.approx(cross, rel=1e-4)


def test_no_vol_gives_nan_iv_and_greeks() -> None:
    out = compute_option_greeks(pd.concat([_quote("call", True, mark=2.0, bid=np.nan, ask=2.1)]))
    assert np.isnan(out["iv_mark"].iloc[0]) and np.isnan(out["iv_mid"].iloc[0])
    assert np.isnan(out["delta"].iloc[0]) and out["delta_bucket"].iloc[0] is None


def test_delta_buckets() -> None:
    got = delta_bucket([0.05, 0.25, 0.5, -0.3, -0.95, np.nan], [True, True, True, False, False, True])
    assert got.tolist() == ["C00-10", "C25-40", "C40-60", "P25-40", "P90-100", None]


def test_chain_ivs_match_the_generating_smile() -> None:
    spec = SyntheticChainSpec(snapshots=1)
    instruments, quotes = synthetic_chain(spec, seed=1)
    out = compute_option_greeks(greeks_input(instruments, quotes))
    np.testing.assert_allclose(out["iv_mark"], smile_vol(spec, out["log_moneyness"].to_numpy()), rtol=1e-9)


def test_empty_input_gives_empty_output() -> None:
    out = compute_option_greeks(_quote("call", True).iloc[:0])
    assert out.empty and list(out.columns) == list(OUTPUT_SCHEMA)
