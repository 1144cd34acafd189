"""Realised-vol estimators: hand-computed values, annualisation, and seeded Brownian paths (statistical)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.analytics import realized_vol as rv


def test_periods_per_year_from_bar_size() -> None:
    assert rv.periods_per_year("1D") == 365.0
    assert rv.periods_per_year("4h") == pytest.approx(2190.0)
    assert rv.periods_per_year(pd.Timedelta(minutes=1)) == pytest.approx(525_600.0)
    assert rv.periods_per_year(3600.0) == pytest.approx(8760.0)
    with pytest.raises(ValueError):
        rv.periods_per_year(0.0)


def test_close_to_close_by_hand() -> None:
    close = np.array([100.0, 110.0, 99.0, 108.9])
    r = np.log([1.1, 0.9, 1.1])
    assert rv.close_to_close(close) == pytest.approx(math.sqrt(365 * np.var(r, ddof=1)), rel=1e-14)
    assert rv.close_to_close(close, demean=False) == pytest.approx(math.sqrt(365 * np.mean(r**2)), rel=1e-14)
    rolling = rv.close_to_close(close, 2, periods=2190.0)
    assert np.isnan(rolling[:2]).all()
    assert rolling[2] == pytest.approx(math.sqrt(2190 * np.var(r[:2], ddof=1)), rel=1e-14)
    assert rolling[3] == pytest.approx(math.sqrt(2190 * np.var(r[1:], ddof=1)), rel=1e-14)


def test_range_estimators_by_hand() -> None:
    o, h, lo, c = np.array([100.0, 102.0]), np.array([105.0, 104.0]), np.array([98.0, 99.0]), np.array([102.0, 100.0])
    hl = np.log(h / lo)
    assert rv.parkinson(h, lo) == pytest.approx(math.sqrt(365 * np.mean(hl**2) / (4 * math.log(2))), rel=1e-14)
    gk = 0.5 * hl**2 - (2 * math.log(2) - 1) * np.log(c / o) ** 2
    assert rv.garman_klass(o, h, lo, c) == pytest.approx(math.sqrt(365 * gk.mean()), rel=1e-14)
    rs = np.log(h / c) * np.log(h / o) + np.log(lo / c) * np.log(lo / o)
    assert rv.rogers_satchell(o, h, lo, c) == pytest.approx(math.sqrt(365 * rs.mean()), rel=1e-14)


def test_yang_zhang_by_hand() -> None:
    o = np.array([100.0, 101.0, 103.0, 102.0])
    h = np.array([102.0, 104.0, 105.0, 104.0])
    lo = np.array([99.0, 100.0, 101.0, 100.0])
    c = np.array([101.0, 103.0, 102.0, 101.0])
    on = np.log(o[1:] / c[:-1])
    oc = np.log(c[1:] / o[1:])
    rs = np.log(h[1:] / c[1:]) * np.log(h[1:] / o[1:]) + np.log(lo[1:] / c[1:]) * np.log(lo[1:] / o[1:])
    n = 3
    kappa = 0.34 / (1.34 + (n + 1) / (n - 1))
    var = np.var(on, ddof=1) + kappa * np.var(oc, ddof=1) + (1 - kappa) * rs.mean()
    assert rv.yang_zhang(o, h, lo, c) == pytest.approx(math.sqrt(365 * var), rel=1e-14)
    rolling = rv.yang_zhang(o, h, lo, c, 3)
    assert np.isnan(rolling[:3]).all() and rolling[3] == pytest.approx(math.sqrt(365 * var), rel=1e-14)


def _brownian_bars(sigma: float, n_bars: int, steps: int, seed: int, drift: float = 0.0) -> tuple[np.ndarray, ...]:
    """OHLC bars of a GBM log-price sampled `steps` times per bar (daily bars, 365 per year)."""
    rng = np.random.default_rng(seed)
    dt = 1.0 / 365 / steps
    incr = (drift - 0.5 * sigma**2) * dt + sigma * math.sqrt(dt) * rng.standard_normal((n_bars, steps))
    path = np.concatenate([[0.0], np.cumsum(incr)])
    x = path[1:].reshape(n_bars, steps)
    opens = path[:-1].reshape(n_bars, steps)[:, 0]
    high = np.maximum(x.max(axis=1), opens)
    low = np.minimum(x.min(axis=1), opens)
    close = x[:, -1]
    return tuple(100.0 * np.exp(a) for a in (opens, high, low, close))


@pytest.mark.parametrize("seed", [1, 2])
def test_estimators_recover_the_volatility_of_a_brownian_path(seed: int) -> None:
    sigma, n = 0.6, 2000
    o, h, lo, c = _brownian_bars(sigma, n, steps=1440, seed=seed)   # minute sampling inside daily bars
    close_series = np.concatenate([[o[0]], c])
    # standard errors of the variance estimators over n bars: ~sqrt(2/n) (close-to-close), ~sqrt(0.41/n)
    # (Parkinson) relative in variance -> halve for vol. Tolerance: 4 standard errors, plus the downward bias
    # of discretely sampled ranges (about 2 % in vol at 1440 samples per bar) for the range estimators.
    se_cc = 0.5 * math.sqrt(2 / n)
    assert rv.close_to_close(close_series) == pytest.approx(sigma, rel=4 * se_cc)
    se_range = 0.5 * math.sqrt(0.41 / n)
    for est in (rv.parkinson(h, lo), rv.garman_klass(o, h, lo, c), rv.rogers_satchell(o, h, lo, c),
                rv.yang_zhang(o, h, lo, c)):
        assert est == pytest.approx(sigma, rel=4 * se_range + 0.03)
        assert est < sigma * 1.01 + 4 * se_range * sigma  # discrete sampling biases ranges low, never high


def test_rogers_satchell_and_yang_zhang_ignore_drift_but_parkinson_does_not() -> None:
    sigma = 0.5
    # drift 10 / year = 1 standard deviation per daily bar: Parkinson (and Garman-Klass) assume none
    o, h, lo, c = _brownian_bars(sigma, 1500, steps=1440, seed=3, drift=10.0)
    assert rv.rogers_satchell(o, h, lo, c) == pytest.approx(sigma, rel=0.05)
    assert rv.yang_zhang(o, h, lo, c) == pytest.approx(sigma, rel=0.05)
    assert rv.parkinson(h, lo) > 1.1 * sigma


def test_vol_cone_quantiles_are_ordered() -> None:
    _, _, _, c = _brownian_bars(0.5, 800, steps=24, seed=4)
    cone = rv.vol_cone(c, windows=(10, 30, 90))
    assert list(cone.index) == [10, 30, 90]
    q = cone[["q0", "q0.25", "q0.5", "q0.75", "q1"]].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0)
    assert cone.loc[90, "count"] == 800 - 90
    # longer windows: narrower cone around the true vol
    assert (cone.loc[90, "q1"] - cone.loc[90, "q0"]) < (cone.loc[10, "q1"] - cone.loc[10, "q0"])
    assert cone.loc[90, "q0.5"] == pytest.approx(0.5, rel=0.1)
