"""The baselines: GARCH(1,1) against the arch package, HAR-RV recovers known coefficients, EWMA and
no-change against plain loops."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.forecast.baselines import EWMA, GARCH11, HAR, FitError, NoChange, NotFittedError, ewma_filter
from tests.unit.forecast.support import garch_daily_series

REFERENCE = json.loads((Path(__file__).resolve().parents[2] / "reference" / "forecast_reference.json").read_text())


def frame_of(returns: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"value": returns**2, "ret": returns},
                        index=pd.date_range("2020-01-01", periods=returns.size, freq="1D", tz="UTC"))


@pytest.mark.parametrize("case", REFERENCE["garch"], ids=["case1", "case2"])
def test_garch_mle_matches_arch(case: dict) -> None:
    frame = frame_of(np.asarray(case["returns"]))
    model = GARCH11(horizon=7, demean=False, scale=case["scale"]).fit(frame)
    assert model.alpha_ == pytest.approx(case["alpha"], abs=2e-5)
    assert model.beta_ == pytest.approx(case["beta"], abs=2e-5)
    assert model.omega_ == pytest.approx(case["omega"], rel=5e-4)
    assert model.loglik_ == pytest.approx(case["loglik"], rel=1e-9)  # at least as good an optimum, same likelihood
    # k-step variance forecasts after the sample (percent^2), then the 7-day mean in decimal^2
    s1 = model.conditional_variance(frame)[-1]
    p, sbar = model.alpha_ + model.beta_, model.omega_ / (1 - model.alpha_ - model.beta_)
    ours = sbar + p ** np.arange(7) * (s1 - sbar)
    np.testing.assert_allclose(ours, case["forecast_var_pct2"], rtol=5e-5)
    assert model.predict(frame)[-1] == pytest.approx(np.mean(case["forecast_var_pct2"]) / 100**2, rel=5e-5)


def test_har_recovers_the_coefficients_of_a_har_process() -> None:
    rng = np.random.default_rng(2)
    b = np.array([1e-5, 0.35, 0.3, 0.2])
    n = 6000
    rv = np.full(n, 1e-4)
    for t in range(30, n - 1):
        x = np.array([1.0, rv[t], rv[t - 6:t + 1].mean(), rv[t - 29:t + 1].mean()])
        rv[t + 1] = max(x @ b + 2e-5 * rng.standard_normal(), 1e-7)
    frame = pd.DataFrame({"value": rv}, index=pd.date_range("2000-01-01", periods=n, freq="1D", tz="UTC"))
    model = HAR(horizon=1).fit(frame.iloc[100:])
    np.testing.assert_allclose(model.coef_, b, atol=0.05 * np.abs(b).max() + 3e-6)


def test_har_needs_enough_rows_and_fit_before_predict() -> None:
    frame = garch_daily_series(30)
    with pytest.raises(NotFittedError):
        HAR().predict(frame)
    with pytest.raises(FitError, match="HAR needs"):
        HAR(horizon=7).fit(frame)


def test_ewma_and_no_change_against_plain_loops() -> None:
    frame = garch_daily_series(200)
    x = frame["value"].to_numpy()
    np.testing.assert_allclose(ewma_filter(x, 0.94), _ewma_loop(x, 0.94), rtol=1e-12)
    np.testing.assert_allclose(EWMA(horizon=7).fit(frame).predict(frame), _ewma_loop(x, 0.94), rtol=1e-12)
    nc = NoChange(horizon=7).fit(frame).predict(frame)
    assert np.isnan(nc[:6]).all()
    assert nc[10] == pytest.approx(x[4:11].mean(), rel=1e-12)
    assert NoChange(horizon=1).fit(frame).predict(frame)[10] == x[10]
    with pytest.raises(FitError, match="lambda"):
        EWMA(lam=1.0).fit(frame)


def _ewma_loop(x: np.ndarray, lam: float) -> np.ndarray:
    out = np.empty_like(x)
    out[0] = x[0]
    for t in range(1, x.size):
        out[t] = lam * out[t - 1] + (1 - lam) * x[t]
    return out


def test_estimators_follow_the_scikit_learn_conventions() -> None:
    frame = garch_daily_series(300)
    for est in (NoChange(), EWMA(), HAR(), GARCH11()):
        assert est.fit(frame) is est
        assert any(k.endswith("_") for k in vars(est)), type(est)
        assert "random_state" in est.get_params()
        forecast = est.predict(frame)
        assert forecast.shape == (len(frame),)
        assert np.all(forecast[40:] > 0)
