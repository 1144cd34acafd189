"""The pandas twin of the surface job: SVI slices and metrics on a chain with a known smile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.features.option_greeks import compute_option_greeks
from cryptoderiv.features.synthetic import SyntheticChainSpec, greeks_input, synthetic_chain
from cryptoderiv.features.vol_surface import (
    METRICS_SCHEMA,
    SLICE_SCHEMA,
    fair_variance,
    fit_expiry,
    fit_vol_surfaces,
    surface_metrics,
    variance_index,
)
from cryptoderiv.surface.svi import SVIParams


def _inputs(spec: SyntheticChainSpec) -> pd.DataFrame:
    instruments, quotes = synthetic_chain(spec, seed=2)
    inputs = greeks_input(instruments, quotes)
    return inputs[["instrument_id", "ts", "exchange", "base", "expiry", "option_type", "index_price"]].merge(
        compute_option_greeks(inputs), on=["instrument_id", "ts"])


def test_nearly_flat_smile_gives_flat_metrics() -> None:
    # (an exactly flat smile makes fit_svi return b = -1e-15, which SVIParams rejects: the slice is dropped)
    spec = SyntheticChainSpec(snapshots=1, skew=0.0, curvature=1e-3, atm_vol=0.5)
    slices = fit_vol_surfaces(_inputs(spec))
    assert list(slices.columns) == list(SLICE_SCHEMA) and len(slices) == 4
    np.testing.assert_allclose(slices["atm_iv"], 0.5, atol=1e-4)
    np.testing.assert_allclose(slices["rr_25d"], 0.0, atol=1e-4)
    np.testing.assert_allclose(slices["bf_25d"], 0.0, atol=1e-4)
    np.testing.assert_allclose(slices["fair_variance"], 0.25, rtol=1e-3)  # flat smile: fair variance = vol^2
    metrics = surface_metrics(slices)
    assert list(metrics.columns) == list(METRICS_SCHEMA)
    row = metrics.iloc[0]
    for column in ("atm_iv_7d", "atm_iv_30d", "atm_iv_60d", "atm_iv_90d"):
        assert row[column] == pytest.approx(0.5, abs=1e-4)
    assert row["variance_index_30d"] == pytest.approx(0.5, rel=1e-3)


def test_negative_skew_gives_negative_risk_reversal() -> None:
    slices = fit_vol_surfaces(_inputs(SyntheticChainSpec(snapshots=1, skew=-0.2, curvature=0.2)))
    assert (slices["rr_25d"] < 0).all() and (slices["bf_25d"] > 0).all()
    # the generating smile is quadratic in vol, not SVI: close, not exact, on the widest (120-day) strikes
    assert (slices["rmse_total_variance"] < 5e-3).all()


def test_too_few_quotes_gives_no_row() -> None:
    inputs = _inputs(SyntheticChainSpec(snapshots=1, strikes_per_expiry=3))
    assert fit_expiry(inputs[inputs["expiry"] == inputs["expiry"].min()]).empty


def test_fair_variance_of_flat_svi_is_the_variance() -> None:
    flat = SVIParams(a=0.04 * 0.5, b=0.0, rho=0.0, m=0.0, sigma=0.1)  # w = 0.02 at t = 0.5: vol 20 %
    assert fair_variance(flat, 0.5) == pytest.approx(0.04, rel=1e-6)


def test_variance_index_interpolates_total_variance() -> None:
    t = np.array([20 / 365, 40 / 365])
    var = np.array([0.25, 0.36])
    expected = np.sqrt((0.25 * t[0] + 0.5 * (0.36 * t[1] - 0.25 * t[0])) / (30 / 365))
    assert variance_index(t, var, 30 / 365) == pytest.approx(expected)
    assert variance_index(t, var, 10 / 365) == pytest.approx(0.5)  # nearest expiry outside
