"""An LSTM forecaster (TensorFlow/Keras) on windowed sequences of the series' own history.

Features per period ``t`` (all from rows ``<= t``): for variance targets the logs of the period's
realised variance and of its 7- and 30-period means (the HAR information set, in logs) and the period's
log return; for level targets (funding) the value and its 7- and 30-period means. Each sample is the
window of the last ``window`` feature rows; features are standardised with the training mean and
standard deviation.

Variance targets are trained on the QLIKE loss itself: the network outputs ``z`` and the forecast is
``f = exp(z + offset_)``, ``offset_`` the log of the mean training target, so the loss
``y/f - log(y/f) - 1`` is minimised directly (the same loss the evaluation ranks by). Level targets use
squared error on the standardised target. The last ``validation_fraction`` of the training windows
(the most recent: no shuffling across time) drives early stopping.

Training is reproducible: ``tf.keras.utils.set_random_seed(random_state)`` and
``tf.config.experimental.enable_op_determinism()`` give bit-identical weights for the same data.
TensorFlow is imported lazily. The fitted estimator pickles (weights, not the Keras object), so it can
travel inside an MLflow bundle.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cryptoderiv.forecast.baselines import FitError, Forecaster
from cryptoderiv.forecast.data import TargetKind, as_float_frame, target

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
FEATURE_LAGS = (7, 30)


def lstm_features(frame: pd.DataFrame, kind: TargetKind) -> FloatArray:
    """Feature matrix (rows x features) of a series frame; rows before 30 periods of history are NaN."""
    values = as_float_frame(frame)["value"].astype(np.float64)
    if kind == "variance":
        floor = float(values[values > 0].min()) if (values > 0).any() else 1e-12
        cols = [np.log(values.clip(lower=floor).to_numpy())]
        cols += [np.log(values.rolling(lag).mean().clip(lower=floor).to_numpy()) for lag in FEATURE_LAGS]
        ret = frame["ret"].to_numpy(dtype=np.float64) if "ret" in frame else np.zeros(len(frame))
        cols.append(ret)
    else:
        cols = [values.to_numpy()] + [values.rolling(lag).mean().to_numpy() for lag in FEATURE_LAGS]
    return np.column_stack(cols).astype(np.float64)


def sliding_windows(features: FloatArray, window: int) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """All windows of ``window`` consecutive complete rows; returns (windows, index of each window's last row)."""
    n = features.shape[0]
    if n < window:
        return np.empty((0, window, features.shape[1])), np.empty(0, dtype=np.int64)
    view = np.lib.stride_tricks.sliding_window_view(features, window, axis=0)  # (n-w+1, f, w)
    windows = np.ascontiguousarray(np.moveaxis(view, -1, 1))
    ends = np.arange(window - 1, n, dtype=np.int64)
    complete = np.isfinite(windows).all(axis=(1, 2))
    return windows[complete], ends[complete]


class LSTMForecaster(Forecaster):
    """Stacked LSTM (``layers`` x ``units``) + dense output, trained with Adam and early stopping."""

    name = "lstm"

    def __init__(self, horizon: int = 1, window: int = 30, units: int = 16, layers: int = 1, epochs: int = 30,
                 batch_size: int = 64, learning_rate: float = 1e-3, patience: int = 5,
                 validation_fraction: float = 0.15, kind: TargetKind = "variance", random_state: int = 0) -> None:
        self.horizon = horizon
        self.window = window
        self.units = units
        self.layers = layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.kind = kind
        self.random_state = random_state

    # -- Keras plumbing -------------------------------------------------------------------------------
    def _build(self, n_features: int) -> Any:
        import tensorflow as tf

        inputs = tf.keras.Input(shape=(self.window, n_features), name="window")
        x = inputs
        for i in range(self.layers):
            x = tf.keras.layers.LSTM(self.units, return_sequences=i < self.layers - 1, name=f"lstm_{i}")(x)
        outputs = tf.keras.layers.Dense(1, name="z")(x)
        return tf.keras.Model(inputs, outputs, name="lstm_forecaster")

    def _loss(self) -> Any:
        import tensorflow as tf

        if self.kind == "variance":
            def qlike_log(y_true: Any, y_pred: Any) -> Any:
                # y_true = log(y) - offset, y_pred = z: QLIKE of f = exp(z + offset) against y.
                u = y_true - y_pred
                return tf.reduce_mean(tf.exp(u) - u - 1.0)
            return qlike_log
        return "mse"

    def fit(self, frame: pd.DataFrame) -> LSTMForecaster:
        import tensorflow as tf

        tf.keras.utils.set_random_seed(self.random_state)
        tf.config.experimental.enable_op_determinism()
        feats = lstm_features(frame, self.kind)
        y = target(frame, self.horizon).to_numpy(dtype=np.float64)
        windows, ends = sliding_windows(feats, self.window)
        ok = np.isfinite(y[ends])
        if self.kind == "variance":
            ok &= y[ends] > 0
        windows, ends = windows[ok], ends[ok]
        if len(ends) < 20:
            raise FitError(f"LSTM needs at least 20 training windows, got {len(ends)} from {len(frame)} rows"
                           f" (window {self.window}, horizon {self.horizon})")
        flat = windows.reshape(-1, windows.shape[-1])
        self.feature_mean_ = flat.mean(axis=0)
        self.feature_std_ = np.where(flat.std(axis=0) > 0, flat.std(axis=0), 1.0)
        X = ((windows - self.feature_mean_) / self.feature_std_).astype(np.float32)
        yt = y[ends]
        if self.kind == "variance":
            self.offset_ = float(np.log(yt.mean()))
            self.target_scale_ = 1.0
            z = np.log(yt) - self.offset_
        else:
            self.offset_ = float(yt.mean())
            self.target_scale_ = float(yt.std()) or 1.0
            z = (yt - self.offset_) / self.target_scale_
        n_val = int(len(z) * self.validation_fraction) if len(z) >= 50 else 0
        model = self._build(X.shape[-1])
        model.compile(optimizer=tf.keras.optimizers.Adam(self.learning_rate), loss=self._loss())
        callbacks = []
        fit_kwargs: dict[str, Any] = {}
        if n_val:
            fit_kwargs["validation_data"] = (X[-n_val:], z[-n_val:].astype(np.float32))
            callbacks.append(tf.keras.callbacks.EarlyStopping(patience=self.patience, restore_best_weights=True))
        history = model.fit(X[: len(z) - n_val], z[: len(z) - n_val].astype(np.float32), epochs=self.epochs,
                            batch_size=self.batch_size, shuffle=True, verbose=0, callbacks=callbacks, **fit_kwargs)
        self.model_ = model
        self.n_features_ = int(X.shape[-1])
        self.n_train_ = len(z)
        self.epochs_run_ = len(history.history["loss"])
        self.train_loss_ = float(history.history["loss"][-1])
        log.info("LSTM fitted on %d windows in %d epochs (loss %.4g)", self.n_train_, self.epochs_run_,
                 self.train_loss_)
        return self

    def predict(self, frame: pd.DataFrame) -> FloatArray:
        self._check_fitted("model_")
        feats = lstm_features(frame, self.kind)
        windows, ends = sliding_windows(feats, self.window)
        out = np.full(len(frame), np.nan)
        if len(ends) == 0:
            return out
        X = ((windows - self.feature_mean_) / self.feature_std_).astype(np.float32)
        z = np.asarray(self.model_(X, training=False), dtype=np.float64)[:, 0]
        out[ends] = np.exp(z + self.offset_) if self.kind == "variance" else z * self.target_scale_ + self.offset_
        return out

    def weights(self) -> list[FloatArray]:
        """The network's weights (for reproducibility checks)."""
        self._check_fitted("model_")
        return [np.asarray(w) for w in self.model_.get_weights()]

    # -- pickling: weights, not the Keras object ------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if "model_" in state:
            state["model_"] = None
            state["_weights"] = [np.asarray(w) for w in self.model_.get_weights()]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        weights = state.pop("_weights", None)
        self.__dict__.update(state)
        if weights is not None:
            model = self._build(state["n_features_"])
            model.set_weights(weights)
            self.model_ = model
