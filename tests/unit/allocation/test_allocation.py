"""Optimisers against KKT conditions, closed forms, the empirical CVaR, and a hand-worked HRP example."""

from __future__ import annotations

import numpy as np
import pytest

from cryptoderiv.allocation import (
    AllocationError,
    WeightConstraints,
    efficient_frontier,
    empirical_cvar,
    hrp_weights,
    mean_variance,
    min_cvar,
    min_variance_for_return,
    risk_contributions,
    risk_parity,
)
from cryptoderiv.allocation.hrp import hrp_order

SD = np.array([0.02, 0.03, 0.05, 0.04])
CORR = np.array([[1.0, 0.6, 0.2, 0.1], [0.6, 1.0, 0.3, 0.2], [0.2, 0.3, 1.0, 0.5], [0.1, 0.2, 0.5, 1.0]])
COV = CORR * np.outer(SD, SD)
MU = np.array([0.0010, 0.0015, 0.0030, 0.0020])
FREE = WeightConstraints(budget=1.0, lower=None, upper=None)


def kkt_solve(q: np.ndarray, c: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equality-constrained QP min 0.5 w'Qw - c'w, Aw = b, by its bordered KKT system (independent path)."""
    n, m = q.shape[0], a.shape[0]
    kkt = np.block([[q, a.T], [a, np.zeros((m, m))]])
    return np.linalg.solve(kkt, np.concatenate((c, b)))[:n]


def test_unconstrained_mean_variance_is_the_kkt_solution() -> None:
    for lam, budget in ((2.0, 1.0), (10.0, 0.0)):
        w = mean_variance(MU, COV, lam, WeightConstraints(budget=budget, lower=None, upper=None))
        np.testing.assert_allclose(w, kkt_solve(lam * COV, MU, np.ones((1, 4)), np.array([budget])), atol=1e-12)
        assert w.sum() == pytest.approx(budget, abs=1e-12)


def test_bounded_long_short_mean_variance_satisfies_kkt() -> None:
    cons = WeightConstraints(budget=1.0, lower=-0.3, upper=0.6)
    lam = 1.0  # unconstrained: (-0.44, 0.49, 0.72, 0.22), so both bounds bind
    w = mean_variance(MU, COV, lam, cons)
    assert w.sum() == pytest.approx(1.0, abs=1e-9)
    assert np.all(w >= -0.3 - 1e-9) and np.all(w <= 0.6 + 1e-9)
    grad = MU - lam * COV @ w  # gradient of the utility; KKT: grad_i = gamma on free weights,
    free = (w > -0.3 + 1e-6) & (w < 0.6 - 1e-6)
    assert free.any() and (~free).any()  # the bounds bind in this case
    gamma = grad[free].mean()
    np.testing.assert_allclose(grad[free], gamma, atol=1e-8)
    assert np.all(grad[w >= 0.6 - 1e-6] >= gamma - 1e-8)  # at the upper bound: wants more
    assert np.all(grad[w <= -0.3 + 1e-6] <= gamma + 1e-8)  # at the lower bound: wants less


def test_min_variance_closed_forms() -> None:
    ones = np.ones(4)
    w_gmv = min_variance_for_return(MU, COV, None, FREE)
    inv = np.linalg.inv(COV)
    np.testing.assert_allclose(w_gmv, inv @ ones / (ones @ inv @ ones), atol=1e-12)
    w_t = min_variance_for_return(MU, COV, 0.002, FREE)
    np.testing.assert_allclose(w_t, kkt_solve(2 * COV, np.zeros(4), np.vstack((ones, MU)), np.array([1.0, 0.002])),
                               atol=1e-10)
    # long-only version agrees when the unconstrained answer is already long-only, else differs and is feasible
    w_lo = min_variance_for_return(MU, COV, 0.002, WeightConstraints())
    assert w_lo @ MU == pytest.approx(0.002, abs=1e-9) and w_lo.min() >= -1e-9


def make_scenarios(seed: int = 5, s: int = 400) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = rng.standard_t(4, size=(s, 4)) / np.sqrt(2.0)
    return np.asarray(MU + z @ np.linalg.cholesky(COV).T)


@pytest.mark.parametrize("beta", [0.95, 0.99, 0.9625])  # (1-beta) S = 20, 4, 15 (integers) ...
def test_cvar_lp_value_equals_empirical_cvar_of_its_weights(beta: float) -> None:
    r = make_scenarios()
    res = min_cvar(r, beta, WeightConstraints(budget=1.0, lower=-0.5, upper=1.0))
    assert res.cvar == pytest.approx(empirical_cvar(r, res.weights, beta), rel=1e-8, abs=1e-12)
    # and no other feasible portfolio does better
    rng = np.random.default_rng(1)
    for _ in range(50):
        w = rng.dirichlet(np.ones(4))
        assert empirical_cvar(r, w, beta) >= res.cvar - 1e-12


def test_cvar_lp_with_fractional_tail_and_return_floor() -> None:
    r = make_scenarios(s=333)  # (1 - 0.95) * 333 = 16.65: a fractional atom
    res = min_cvar(r, 0.95, WeightConstraints(), min_expected_return=0.0022, expected_returns=MU)
    assert res.cvar == pytest.approx(empirical_cvar(r, res.weights, 0.95), rel=1e-8)
    assert res.expected_return >= 0.0022 - 1e-10


def test_empirical_cvar_by_hand() -> None:
    # losses of one asset: 10 scenarios, returns -0.1..0.8: worst 20 % = mean(0.1, 0.0) = 0.05
    r = (np.arange(10.0) / 10 - 0.1)[:, None]
    assert empirical_cvar(r, [1.0], 0.8) == pytest.approx(0.05)
    # 25 % tail = 2.5 scenarios: (0.1 + 0.0 + 0.5 * -0.1) / 2.5 = 0.02
    assert empirical_cvar(r, [1.0], 0.75) == pytest.approx(0.02)


def test_erc_with_diagonal_covariance_is_inverse_vol() -> None:
    sd = np.array([0.1, 0.2, 0.4, 0.25])
    w = risk_parity(np.diag(sd**2))
    np.testing.assert_allclose(w, (1 / sd) / np.sum(1 / sd), rtol=1e-12)


def test_erc_equalises_risk_contributions_and_budgets() -> None:
    w = risk_parity(COV)
    rc = risk_contributions(w, COV)
    np.testing.assert_allclose(rc, rc.mean(), rtol=1e-10)
    assert rc.sum() == pytest.approx(np.sqrt(w @ COV @ w), rel=1e-12)
    b = np.array([0.1, 0.2, 0.3, 0.4])
    rc_b = risk_contributions(risk_parity(COV, b), COV)
    np.testing.assert_allclose(rc_b / rc_b.sum(), b, rtol=1e-10)


def test_hrp_hand_worked_three_assets() -> None:
    # vols 10 %, 20 %, 30 %; assets 0 and 1 correlated 0.9, asset 2 uncorrelated with both.
    # Stage 1: d01 = sqrt(0.05) is the closest pair, so the tree is ((0, 1), 2).
    # Stage 2 (getQuasiDiag): the last link is (2, cluster 3) and cluster 3 = (0, 1): order [2, 0, 1].
    # Stage 3: halves [2] | [0, 1]. V([2]) = 0.09. IVP of [0, 1] ~ (1/0.01, 1/0.04) = (0.8, 0.2):
    #   V = 0.64 * 0.01 + 2 * 0.8 * 0.2 * 0.018 + 0.04 * 0.04 = 0.01376.
    #   alpha = 1 - 0.09 / (0.09 + 0.01376): w2 = alpha = 0.01376 / 0.10376, rest (1 - alpha) = 0.09 / 0.10376.
    #   Then [0] | [1]: alpha = 1 - 0.01 / 0.05 = 0.8: w0 = 0.8 * 0.09 / 0.10376, w1 = 0.2 * 0.09 / 0.10376.
    cov = np.array([[0.01, 0.018, 0.0], [0.018, 0.04, 0.0], [0.0, 0.0, 0.09]])
    np.testing.assert_array_equal(hrp_order(cov), [2, 0, 1])
    expected = np.array([0.8 * 0.09, 0.2 * 0.09, 0.01376]) / 0.10376
    np.testing.assert_allclose(hrp_weights(cov), expected, rtol=1e-12)


def test_hrp_weights_sum_to_one_and_are_positive() -> None:
    w = hrp_weights(COV)
    assert w.sum() == pytest.approx(1.0) and np.all(w > 0)


def test_frontier_is_monotone_and_starts_at_min_variance() -> None:
    r = make_scenarios()
    front = efficient_frontier(MU, COV, WeightConstraints(), n_points=8, asset_names=list("abcd"),
                               scenario_returns=r)
    assert list(front.columns[-4:]) == list("abcd")
    assert np.all(np.diff(front["volatility"]) >= -1e-10)
    w_gmv = min_variance_for_return(MU, COV, None, WeightConstraints())
    assert front["volatility"].iloc[0] == pytest.approx(np.sqrt(w_gmv @ COV @ w_gmv), rel=1e-6)
    assert front["expected_return"].iloc[-1] == pytest.approx(MU.max(), rel=1e-6)  # long-only max: all in c
    np.testing.assert_allclose(front[list("abcd")].sum(axis=1), 1.0, atol=1e-9)


def test_invalid_inputs_raise_allocation_error() -> None:
    with pytest.raises(AllocationError, match="positive definite"):
        mean_variance(MU[:2], [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(AllocationError, match="budget"):
        mean_variance(MU, COV, constraints=WeightConstraints(budget=1.0, lower=0.0, upper=0.2))
    with pytest.raises(AllocationError, match=r"mu\[1\]"):
        mean_variance([0.1, np.nan, 0.1, 0.1], COV)
