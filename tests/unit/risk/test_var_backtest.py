"""Kupiec / Christoffersen against an independent scipy generator, and Basel zones against BCBS (1996)."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from cryptoderiv.risk.var_backtest import backtest, basel_zone, christoffersen, kupiec

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "var_backtest_reference.json"


@pytest.mark.parametrize("case", json.loads(REFERENCE.read_text()), ids=lambda c: f"T{len(c['hits'])}")
def test_tests_match_the_independent_reference(case: dict) -> None:
    hits = np.array([c == "1" for c in case["hits"]])
    lr, p = kupiec(int(hits.sum()), hits.size, case["coverage"])
    assert lr == pytest.approx(case["lr_uc"], rel=1e-10, abs=1e-12)
    assert p == pytest.approx(case["p_uc"], rel=1e-9, abs=1e-14)
    lr_ind, lr_cc = christoffersen(hits, case["coverage"])
    assert lr_ind == pytest.approx(case["lr_ind"], rel=1e-10, abs=1e-12)
    assert lr_cc == pytest.approx(case["lr_cc"], rel=1e-10, abs=1e-12)


def test_kupiec_is_zero_at_the_expected_rate_and_grows_away_from_it() -> None:
    assert kupiec(10, 1000, 0.01) == (0.0, 1.0)
    lrs = [kupiec(x, 1000, 0.01)[0] for x in range(0, 31)]
    assert all(a > b for a, b in pairwise(lrs[:11]))  # decreasing up to x = 10
    assert all(a < b for a, b in pairwise(lrs[10:]))  # increasing after
    assert kupiec(0, 250, 0.01)[0] == pytest.approx(-2 * 250 * np.log(0.99))  # closed form when x = 0


@pytest.mark.parametrize(("exceptions", "zone", "multiplier"), [
    (0, "green", 3.0), (4, "green", 3.0), (5, "yellow", 3.4), (6, "yellow", 3.5), (7, "yellow", 3.65),
    (8, "yellow", 3.75), (9, "yellow", 3.85), (10, "red", 4.0), (25, "red", 4.0)])
def test_basel_table_for_250_days(exceptions: int, zone: str, multiplier: float) -> None:
    # BCBS (1996), "Supervisory framework for the use of backtesting ...", Table 2.
    assert basel_zone(exceptions) == (zone, multiplier)


def test_basel_zone_other_windows_follow_the_binomial_rule() -> None:
    assert basel_zone(8, 500)[0] == "green"       # P(X <= 8 | 500, 1 %) = 0.93 < 95 %
    assert basel_zone(9, 500)[0] == "yellow"
    assert basel_zone(30, 500) == ("red", 4.0)


def test_christoffersen_detects_clustering_and_accepts_spread_hits() -> None:
    spread = np.zeros(500, dtype=bool)
    spread[::50] = True
    clustered = np.zeros(500, dtype=bool)
    clustered[100:110] = True
    assert christoffersen(spread, 0.02)[0] < 1.0
    assert christoffersen(clustered, 0.02)[0] > 30.0


def test_backtest_counts_losses_beyond_var() -> None:
    pnl = np.array([-1.0, -3.0, 0.5, -2.5, -0.1] * 60)
    res = backtest(pnl, np.full(pnl.size, 2.0), 0.01)
    assert (res.observations, res.exceptions) == (300, 120)
    assert res.basel_zone == "red"


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="coverage"):
        kupiec(1, 10, 1.5)
    with pytest.raises(ValueError, match="exceptions"):
        kupiec(11, 10, 0.01)
    with pytest.raises(ValueError, match="booleans"):
        christoffersen([0, 2, 1], 0.01)
