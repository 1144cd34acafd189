"""The champion/challenger rule."""

from __future__ import annotations

import numpy as np

from cryptoderiv.forecast.registry import decide

RNG = np.random.default_rng(11)
BASE = RNG.gamma(2.0, 0.3, 500)


def test_first_champion_is_the_lowest_mean_loss() -> None:
    d = decide({"har": BASE, "lstm": BASE * 0.99, "no_change": BASE * 2}, None, horizon=1)
    assert d.promoted and d.winner_kind == "lstm" and "no champion yet" in d.reason


def test_a_clearly_better_challenger_is_promoted() -> None:
    better = BASE * 0.8 + 0.01 * RNG.standard_normal(500)
    d = decide({"har": BASE, "lstm": better, "ewma": BASE * 1.1}, "har", horizon=1)
    assert d.promoted and d.winner_kind == "lstm" and d.challenger_kind == "lstm"
    assert d.dm_stat is not None and d.dm_stat < 0 and d.p_value is not None and d.p_value < 0.05


def test_a_slightly_better_but_noisy_challenger_is_not_promoted() -> None:
    noisy = BASE * 0.995 + 0.5 * RNG.standard_normal(500)
    noisy = noisy - noisy.mean() + BASE.mean() * 0.995
    d = decide({"har": BASE, "lstm": noisy}, "har", horizon=7)
    assert not d.promoted and d.winner_kind == "har"
    assert d.p_value is not None and d.p_value >= 0.05 and "DM p" in d.reason


def test_a_worse_challenger_is_not_tested_and_the_champion_stays() -> None:
    d = decide({"har": BASE, "lstm": BASE * 1.2, "ewma": BASE * 1.1}, "har", horizon=1)
    assert not d.promoted and d.winner_kind == "har" and d.challenger_kind == "ewma" and d.p_value is None
    unknown = decide({"har": BASE}, "garch", horizon=1)
    assert not unknown.promoted and unknown.winner_kind == "garch"
