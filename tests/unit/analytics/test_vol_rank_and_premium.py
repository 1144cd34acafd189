"""IV rank / percentile on hand series; variance premium alignment (trailing vs forward)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cryptoderiv.analytics.variance_premium import forward_realized_vol, variance_premium
from cryptoderiv.analytics.vol_rank import iv_percentile, iv_rank


def test_iv_rank_by_hand() -> None:
    x = np.array([40.0, 60.0, 50.0, 45.0, 70.0])
    r = iv_rank(x, window=3)
    assert np.isnan(r[:2]).all()
    assert r[2:] == pytest.approx([(50 - 40) / 20, (45 - 45) / 15, (70 - 45) / 25])


def test_iv_percentile_by_hand() -> None:
    x = np.array([40.0, 60.0, 50.0, 45.0, 70.0])
    p = iv_percentile(x, window=4)
    # day 3: earlier 40, 60, 50 -> below 45: one of three; day 4: 60, 50, 45 all below 70
    assert np.isnan(p[:3]).all()
    assert p[3:] == pytest.approx([1 / 3, 1.0])


def test_rank_and_percentile_edge_cases() -> None:
    flat = np.full(5, 50.0)
    assert np.isnan(iv_rank(flat, 3)[2:]).all()           # max == min
    assert iv_percentile(flat, 3)[2:] == pytest.approx([0.0, 0.0, 0.0])  # strictly below
    gap = np.array([40.0, np.nan, 50.0, np.nan])
    assert iv_rank(gap, 3)[2] == pytest.approx(1.0)
    assert np.isnan(iv_rank(gap, 3)[3])
    assert iv_percentile(gap, 3)[2] == pytest.approx(1.0)  # NaNs are not counted
    assert np.isnan(iv_rank([1.0, 2.0], 3)).all()
    with pytest.raises(ValueError):
        iv_rank(gap, 1)


def test_forward_realized_vol_alignment() -> None:
    close = 100.0 * np.exp(np.cumsum([0.0, 0.01, -0.02, 0.03, 0.0]))
    fwd = forward_realized_vol(close, horizon=2)
    # at t = 0 the next two returns are +0.01 and -0.02
    assert fwd[0] == pytest.approx(math.sqrt(365 * (0.01**2 + 0.02**2) / 2), rel=1e-12)
    assert fwd[2] == pytest.approx(math.sqrt(365 * (0.03**2 + 0.0) / 2), rel=1e-12)
    assert np.isnan(fwd[3:]).all()


def test_variance_premium_trailing_and_ex_post() -> None:
    close = 100.0 * np.exp(np.cumsum([0.0, 0.01, -0.01, 0.01, -0.01]))
    rv_level = math.sqrt(365 * 0.01**2)                   # every return is +-1 %
    iv = np.full(5, 0.25)
    trailing = variance_premium(iv, close, horizon=2)
    assert np.isnan(trailing.realized[:2]).all()
    assert trailing.realized[2:] == pytest.approx(rv_level)
    assert trailing.vol_spread[4] == pytest.approx(0.25 - rv_level)
    assert trailing.variance_spread[4] == pytest.approx(0.0625 - rv_level**2)
    assert trailing.ratio[4] == pytest.approx(0.25 / rv_level)
    ex_post = variance_premium(iv, close, horizon=2, ex_post=True)
    assert ex_post.realized[:3] == pytest.approx(rv_level) and np.isnan(ex_post.realized[3:]).all()
    with pytest.raises(ValueError):
        variance_premium(iv[:3], close, horizon=2)
