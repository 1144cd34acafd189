"""Checked against reality: SVI fits and the 30-day variance index on real Deribit snapshots.

Uses ``../shared/data/market`` (skipped when absent). Thresholds are the ones stated in docs/metrics.md; the
full-history numbers come from ``scripts/validate_surface.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.analytics.variance_index import daily_close_at, variance_index
from cryptoderiv.surface.chain import OptionChain
from scripts.validate_surface import evaluate_snapshot, load_dvol, snapshot_files

pytestmark = pytest.mark.shared_data

DVOL_MEDIAN_ABS_MAX = 3.0     # vol points, full-strip index vs DVOL interpolated to the snapshot time
INSIDE_SHARE_MIN = 0.90       # share of liquid quotes with fitted IV inside the bid/ask IV
RMSE_IV_MAX = 0.006           # 0.6 vol point
RMSE_COIN_MAX = 0.001         # coin premium


@pytest.fixture(scope="module")
def snapshots(shared_market_dir: Path) -> list:
    snaps = snapshot_files(shared_market_dir)
    if not snaps:
        pytest.skip("no Deribit snapshots under the shared market folder")
    return snaps


def test_variance_index_tracks_dvol(shared_market_dir: Path, snapshots: list) -> None:
    dvol = load_dvol(shared_market_dir)
    covered = [s for s in snapshots if s.time <= dvol.index.max()]
    picked = covered[::8]                                   # ~10 days spread over Jan..Apr 2026
    times = np.array([s.time.to_datetime64() for s in picked], dtype="datetime64[s]")
    ref = daily_close_at(times, dvol.index.to_numpy(dtype="datetime64[D]"), dvol.to_numpy())
    ours = np.array([variance_index(OptionChain.from_deribit_snapshot(pd.read_csv(s.path), "BTC")).points
                     for s in picked])
    err = ours - ref
    err = err[np.isfinite(err)]
    assert err.size >= 5
    assert np.median(np.abs(err)) <= DVOL_MEDIAN_ABS_MAX, f"errors (vol pts): {np.round(err, 2)}"


@pytest.mark.parametrize("day", [0, 1], ids=["first", "middle"])
def test_svi_fit_quality_on_real_chains(snapshots: list, day: int) -> None:
    snap = snapshots[0 if day == 0 else len(snapshots) // 2]
    frame = pd.read_csv(snap.path)
    for cur in ("BTC", "ETH"):
        row = evaluate_snapshot(frame, snap.time, cur)
        assert row["n_fit"] >= 100, cur
        assert row["inside"] >= INSIDE_SHARE_MIN, (cur, row["inside"])
        assert row["rmse_iv"] <= RMSE_IV_MAX, (cur, row["rmse_iv"])
        assert row["rmse_coin"] <= RMSE_COIN_MAX, (cur, row["rmse_coin"])
        assert row["fit_calendar_pairs"] <= 1, cur
        assert row["q_tradable_butterfly"] == 0 and row["q_mark_calendar"] == 0, cur
