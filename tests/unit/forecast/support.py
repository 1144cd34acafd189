"""Seeded synthetic series for the forecasting tests (no real data, no randomness across runs)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def garch_daily_series(n: int = 400, seed: int = 3, omega: float = 2e-5, alpha: float = 0.1, beta: float = 0.85,
                       intraday: int = 6, start: str = "2024-01-01") -> pd.DataFrame:
    """A series frame (``value`` = realised variance from ``intraday`` returns per day, ``ret``) whose daily
    variance follows a GARCH(1,1): volatility clusters, so the baselines have something to forecast."""
    rng = np.random.default_rng(seed)
    s = omega / (1 - alpha - beta)
    values, rets = np.empty(n), np.empty(n)
    for t in range(n):
        r_i = rng.standard_normal(intraday) * np.sqrt(s / intraday)
        values[t], rets[t] = float(r_i @ r_i), float(r_i.sum())
        s = omega + alpha * rets[t] ** 2 + beta * s
    index = pd.date_range(start, periods=n, freq="1D", tz="UTC", name="ts")
    return pd.DataFrame({"value": values, "ret": rets}, index=index)


def funding_daily_series(n: int = 300, seed: int = 4, start: str = "2024-01-01") -> pd.DataFrame:
    """A persistent AR(1) daily mean funding rate (decimal per 8 h interval) around 1 bp."""
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = 1e-4
    for t in range(1, n):
        x[t] = 1e-4 + 0.9 * (x[t - 1] - 1e-4) + 3e-5 * rng.standard_normal()
    return pd.DataFrame({"value": x}, index=pd.date_range(start, periods=n, freq="1D", tz="UTC", name="ts"))


def hourly_candles(n_days: int, start: pd.Timestamp, seed: int = 9, start_price: float = 90_000.0) -> pd.DataFrame:
    """1h candles (ts, open, high, low, close, volume) with GARCH-like clustered hourly volatility."""
    rng = np.random.default_rng(seed)
    n = n_days * 24
    vol = np.empty(n)
    s = 1e-5
    r = np.empty(n)
    for t in range(n):
        vol[t] = np.sqrt(s)
        r[t] = vol[t] * rng.standard_normal()
        s = 2e-7 + 0.05 * r[t] ** 2 + 0.93 * s
    close = start_price * np.exp(np.cumsum(r))
    open_ = np.concatenate(([start_price], close[:-1]))
    return pd.DataFrame({"ts": pd.date_range(start, periods=n, freq="1h", tz="UTC"), "open": open_,
                         "high": np.maximum(open_, close) * 1.001, "low": np.minimum(open_, close) * 0.999,
                         "close": close, "volume": rng.gamma(2.0, 5.0, n)})
