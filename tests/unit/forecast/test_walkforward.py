"""Walk-forward: expanding window, refits before each fold, and no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.forecast.baselines import Forecaster
from cryptoderiv.forecast.data import TARGETS
from cryptoderiv.forecast.walkforward import comparison_table, fold_table, make_forecaster, walk_forward
from tests.unit.forecast.support import funding_daily_series, garch_daily_series

TINY_LSTM = {"window": 8, "units": 4, "epochs": 2, "batch_size": 64, "patience": 1}


class RecordingHAR(Forecaster):
    """A probe estimator: a real HAR that records the last row it was fitted on."""

    name = "probe"

    def __init__(self, fitted_until: list[pd.Timestamp]) -> None:
        self.fitted_until = fitted_until
        self.inner = make_forecaster("har", TARGETS["rv_7d"])

    def fit(self, frame: pd.DataFrame) -> RecordingHAR:
        self.fitted_until.append(frame.index[-1])
        self.inner.fit(frame)
        self.fitted_ = True
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.inner.predict(frame)


def test_each_fold_is_fitted_on_rows_before_it_only() -> None:
    frame = garch_daily_series(300)
    seen: list[pd.Timestamp] = []
    result = walk_forward(frame, lambda: RecordingHAR(seen), 7, frame.index[200], 25, name="probe")
    starts = result.forecasts.groupby("fold").apply(lambda g: g.index.min())
    assert len(seen) == 4 == len(starts)
    for fitted_until, fold_start in zip(seen, starts, strict=True):
        assert fitted_until == fold_start - pd.Timedelta(days=1)
    assert result.forecasts.index.min() == frame.index[200]
    assert result.forecasts.index.max() == frame.index[-8]  # the last 7 rows have no realised target
    np.testing.assert_allclose(result.forecasts["realized"].iloc[0], frame["value"].iloc[201:208].mean())


@pytest.mark.parametrize("kind", ["no_change", "ewma", "har", "garch", pytest.param("lstm", marks=pytest.mark.slow)])
def test_forecasts_up_to_t_do_not_change_when_the_future_changes(kind: str) -> None:
    spec = TARGETS["rv_7d"]
    frame = garch_daily_series(260)
    cut = 215  # forecasts at rows <= cut must only use rows <= cut
    future = frame.copy()
    rng = np.random.default_rng(0)
    future.iloc[cut + 1:, 0] *= rng.uniform(0.2, 5.0, len(frame) - cut - 1)
    future.iloc[cut + 1:, 1] *= -3.0
    params = TINY_LSTM if kind == "lstm" else {}
    runs = [walk_forward(f, lambda: make_forecaster(kind, spec, params), spec.horizon, frame.index[200], 30,
                         name=kind).forecasts["forecast"] for f in (frame, future)]
    upto = frame.index[cut]
    np.testing.assert_array_equal(runs[0].loc[:upto].to_numpy(), runs[1].loc[:upto].to_numpy())
    later = upto + pd.Timedelta(days=11)
    assert not np.allclose(runs[0].loc[later:].to_numpy(), runs[1].loc[later:].to_numpy())


def test_comparison_table_ranks_informative_models_above_no_change() -> None:
    spec = TARGETS["rv_1d"]
    frame = garch_daily_series(700, seed=8)
    results = {k: walk_forward(frame, lambda k=k: make_forecaster(k, spec), 1, frame.index[400], 50, name=k)
               for k in ("no_change", "ewma", "har", "garch")}
    table = comparison_table(spec, results)
    assert list(table.columns) == ["n", "qlike", "mse", "mae", "r2_vs_no_change", "dm_stat", "dm_p_value"]
    assert table.loc["no_change", "r2_vs_no_change"] == 0.0
    assert np.isnan(table.loc["har", "dm_stat"])
    # the data are GARCH: the GARCH model has the lowest QLIKE and beats no-change
    assert table["qlike"].idxmin() == "garch"
    assert table.loc["garch", "r2_vs_no_change"] > 0.2
    assert table.loc["no_change", "dm_stat"] > 0 and table.loc["no_change", "dm_p_value"] < 0.05
    folds = fold_table(spec, results)
    assert set(folds["fold"]) == set(range(6)) and (folds["n"] > 0).all()


def test_level_targets_use_squared_error_and_skip_qlike() -> None:
    spec = TARGETS["funding_1d"]
    frame = funding_daily_series(300)
    results = {k: walk_forward(frame, lambda k=k: make_forecaster(k, spec), 1, frame.index[200], 50, name=k)
               for k in ("no_change", "ewma", "har")}
    table = comparison_table(spec, results)
    assert "qlike" not in table.columns
    assert table.loc["har", "mse"] < table.loc["no_change", "mse"]
