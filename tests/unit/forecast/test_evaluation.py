"""QLIKE, MSE, MAE, out-of-sample R^2 and the Diebold-Mariano test against independent references."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from cryptoderiv.forecast.evaluation import EvaluationError, diebold_mariano, mae, mse, oos_r2, qlike, qlike_losses

REFERENCE = json.loads((Path(__file__).resolve().parents[2] / "reference" / "forecast_reference.json").read_text())


def test_qlike_is_zero_at_the_truth_positive_elsewhere_and_scale_free() -> None:
    y = np.array([1e-4, 4e-4, 2.5e-5])
    assert qlike(y, y) == 0.0
    assert qlike(y, 2 * y) > 0 and qlike(y, 0.5 * y) > 0
    # under-prediction by a factor costs more than over-prediction by the same factor (Patton 2011)
    assert qlike(y, 0.5 * y) > qlike(y, 2 * y)
    assert qlike(y * 1e6, 1.7 * y * 1e6) == pytest.approx(qlike(y, 1.7 * y), rel=1e-12)
    # one value by hand: y/f = 2 -> 2 - ln 2 - 1
    assert qlike([2.0], [1.0]) == pytest.approx(1.0 - np.log(2.0), rel=1e-15)


def test_the_constant_forecast_minimising_mean_qlike_is_the_sample_mean() -> None:
    y = np.random.default_rng(1).gamma(2.0, 1e-4, 500)
    best = optimize.minimize_scalar(lambda f: qlike(y, np.full_like(y, f)), bounds=(1e-6, 1e-3), method="bounded",
                                    options={"xatol": 1e-12})
    assert best.x == pytest.approx(y.mean(), rel=1e-5)


def test_qlike_names_a_non_positive_value() -> None:
    with pytest.raises(EvaluationError, match="forecast variance at position 1"):
        qlike_losses([1.0, 1.0], [1.0, 0.0])
    with pytest.raises(EvaluationError, match="differ in length"):
        qlike([1.0], [1.0, 2.0])


def test_mse_mae_and_oos_r2() -> None:
    y, f, b = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.0]), np.array([2.0, 2.0, 2.0])
    assert mse(y, f) == pytest.approx((0.25 + 0 + 1) / 3)
    assert mae(y, f) == pytest.approx(1.5 / 3)
    assert oos_r2(y, f, b) == pytest.approx(1 - 1.25 / 2.0)
    assert oos_r2(y, b, b) == 0.0


def test_dm_with_h1_and_hln_equals_the_one_sample_t_test() -> None:
    rng = np.random.default_rng(5)
    e1, e2 = rng.standard_normal(120), 1.2 * rng.standard_normal(120)
    stat, p = diebold_mariano(e1, e2, h=1)
    t = stats.ttest_1samp(e1**2 - e2**2, 0.0)
    assert stat == pytest.approx(t.statistic, rel=1e-12)
    assert p == pytest.approx(t.pvalue, rel=1e-10)
    less = diebold_mariano(e1, e2, h=1, alternative="less")[1]
    assert less == pytest.approx(stats.ttest_1samp(e1**2 - e2**2, 0.0, alternative="less").pvalue, rel=1e-10)


@pytest.mark.parametrize("case", REFERENCE["dm"], ids=lambda c: f"h{c['h']}")
def test_dm_matches_statsmodels_hac_with_a_uniform_kernel(case: dict) -> None:
    plain = diebold_mariano(case["e1"], case["e2"], h=case["h"], hln=False)
    assert plain[0] == pytest.approx(case["dm_plain"], rel=1e-10)
    assert plain[1] == pytest.approx(case["p_plain"], rel=1e-8)
    corrected = diebold_mariano(case["e1"], case["e2"], h=case["h"], hln=True)
    assert corrected[0] == pytest.approx(case["dm_hln"], rel=1e-10)
    assert corrected[1] == pytest.approx(case["p_hln"], rel=1e-8)


def test_dm_losses_and_errors() -> None:
    rng = np.random.default_rng(6)
    e1, e2 = rng.standard_normal(60), rng.standard_normal(60)
    by_abs = diebold_mariano(e1, e2, loss="absolute")
    assert by_abs == diebold_mariano(np.abs(e1), np.abs(e2), loss="precomputed")
    # swapping the models flips the sign and keeps the two-sided p-value
    swapped = diebold_mariano(e2, e1)
    assert swapped[0] == pytest.approx(-diebold_mariano(e1, e2)[0]) and swapped[1] == pytest.approx(
        diebold_mariano(e1, e2)[1])
    with pytest.raises(EvaluationError, match="constant"):
        diebold_mariano(e1, e1)
    with pytest.raises(EvaluationError, match="at least 3"):
        diebold_mariano([1.0, 2.0], [0.0, 1.0])
