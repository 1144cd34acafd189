"""Small generated market data for the demo, the benchmarks and the tests of the storage layer.

Seeded and deterministic: the same arguments give the same frames. (The exchange simulator is the
full, coherent market; this is only the quick sample the foundation needs.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SAMPLE_INSTRUMENTS = pd.DataFrame(
    [
        ("binance", "BTC/USDT", "spot", "BTC", "USDT", None, False, 1.0, None),
        ("binance", "ETH/USDT", "spot", "ETH", "USDT", None, False, 1.0, None),
        ("binance", "BTC/USDT:USDT", "perpetual", "BTC", "USDT", "USDT", False, 1.0, 8),
        ("bybit", "BTC/USDT:USDT", "perpetual", "BTC", "USDT", "USDT", False, 1.0, 8),
        ("deribit", "BTC/USD:BTC", "perpetual", "BTC", "USD", "BTC", True, 10.0, 8),
        ("deribit", "ETH/USD:ETH", "perpetual", "ETH", "USD", "ETH", True, 1.0, 8),
    ],
    columns=["exchange", "symbol", "kind", "base", "quote", "settle", "is_inverse", "contract_size",
             "funding_interval_hours"],
).astype({"funding_interval_hours": "Int16"})

START_PRICES = {"BTC": 90_000.0, "ETH": 3_000.0}


def sample_candles(instruments: pd.DataFrame, start: pd.Timestamp, n_minutes: int, seed: int = 7,
                   annual_vol: float = 0.6) -> pd.DataFrame:
    """1m candles for each instrument: a seeded lognormal walk with consistent open/high/low/close.

    Returns columns exchange, symbol, timeframe, ts (UTC open time), open, high, low, close, volume.
    """
    rng = np.random.default_rng(seed)
    step_vol = annual_vol / np.sqrt(365 * 24 * 60)
    ts = pd.date_range(start, periods=n_minutes, freq="1min", tz="UTC")
    frames = []
    for exchange, symbol, base in instruments[["exchange", "symbol", "base"]].itertuples(index=False):
        start_price = START_PRICES[str(base)]
        shocks = rng.standard_normal((n_minutes, 4)) * step_vol
        close = start_price * np.exp(np.cumsum(shocks[:, 0]))
        open_ = np.concatenate((np.array([start_price]), close[:-1]))
        high = np.maximum(open_, close) * np.exp(np.abs(shocks[:, 1]))
        low = np.minimum(open_, close) * np.exp(-np.abs(shocks[:, 2]))
        frames.append(pd.DataFrame({
            "exchange": exchange, "symbol": symbol, "timeframe": "1m", "ts": ts,
            "open": open_, "high": high, "low": low, "close": close,
            "volume": rng.gamma(2.0, 5.0, n_minutes),
        }))
    return pd.concat(frames, ignore_index=True)
