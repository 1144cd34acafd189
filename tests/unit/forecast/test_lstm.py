"""The LSTM: seeded training is reproducible, and the fitted estimator survives pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from cryptoderiv.forecast.baselines import FitError
from cryptoderiv.forecast.lstm import LSTMForecaster, sliding_windows
from tests.unit.forecast.support import funding_daily_series, garch_daily_series

TINY = {"window": 10, "units": 6, "epochs": 3, "batch_size": 32, "patience": 2}


@pytest.mark.slow
def test_same_data_and_seed_give_bit_identical_weights_and_another_seed_does_not() -> None:
    frame = garch_daily_series(220)
    a = LSTMForecaster(horizon=1, random_state=7, **TINY).fit(frame)
    b = LSTMForecaster(horizon=1, random_state=7, **TINY).fit(frame)
    c = LSTMForecaster(horizon=1, random_state=8, **TINY).fit(frame)
    for wa, wb in zip(a.weights(), b.weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not all(np.array_equal(wa, wc) for wa, wc in zip(a.weights(), c.weights(), strict=True))
    np.testing.assert_array_equal(a.predict(frame), b.predict(frame))


def test_pickled_estimator_predicts_the_same() -> None:
    frame = garch_daily_series(200)
    model = LSTMForecaster(horizon=7, random_state=1, **TINY).fit(frame)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(model.predict(frame), clone.predict(frame))
    forecast = model.predict(frame)
    assert np.isnan(forecast[:38]).all() and np.all(forecast[39:] > 0)  # 30-period features + 10-row window


def test_level_target_and_too_short_history() -> None:
    frame = funding_daily_series(200)
    model = LSTMForecaster(horizon=1, kind="level", **TINY).fit(frame)
    forecast = model.predict(frame)[-50:]
    assert np.all(np.isfinite(forecast)) and abs(np.mean(forecast) - 1e-4) < 1e-4
    with pytest.raises(FitError, match="at least 20 training windows"):
        LSTMForecaster(**TINY).fit(frame.iloc[:50].assign(ret=0.0).assign(value=lambda d: d["value"].abs()))


def test_sliding_windows_end_where_they_say() -> None:
    feats = np.arange(20.0).reshape(10, 2)
    feats[2, 0] = np.nan
    windows, ends = sliding_windows(feats, 3)
    assert list(ends) == [5, 6, 7, 8, 9]
    np.testing.assert_array_equal(windows[0], feats[3:6])
