"""Forecasting speed: demo LSTM training on CPU (goal <= 5 min), one day of forecasts for all series
(goal: seconds), and our GARCH(1,1) MLE next to the ``arch`` package.

Run: ``.venv/bin/python benchmarks/bench_forecast.py [--reps 3]``. Prints a table (median of ``--reps``)
and writes one JSON line to ``benchmarks/results/forecast.json``.

Rows:

* "demo LSTM training": everything the demo trains for the LSTM -- the walk-forward refits of
  ``DEMO_CONFIG`` plus the final fit, for the five demo series (rv_1d and rv_7d for BTC and ETH, funding
  for BTC) on 110 days of seeded synthetic daily data. Peer: the same for HAR-RV.
* "weekly LSTM fit (real BTC, 3000 d)": one fit of the default-config LSTM on the real BTC daily series
  (``../shared/data``; skipped when absent). Peer: HAR-RV on the same data.
* "forecast a day, all series": load the registered LSTM bundle from a local MLflow store (SQLite in a
  temporary folder) and forecast the five series from 120 days of history. Peer: the same with HAR-RV.
* "GARCH(1,1) fit, 3000 returns": ours (SLSQP, three starts) vs ``arch`` (``arch_model(...).fit``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
from cryptoderiv.forecast.data import TARGETS, load_binance_csv, realized_from_bars  # noqa: E402
from cryptoderiv.forecast.training import DEFAULT_CONFIG, DEMO_CONFIG  # noqa: E402
from cryptoderiv.forecast.walkforward import make_forecaster, walk_forward  # noqa: E402

CANDLES = ROOT.parent / "shared" / "data" / "market" / "binance_ohlcv_btc_eth"
RESULTS = ROOT / "benchmarks" / "results" / "forecast.json"


def garch_daily_series(n: int, seed: int, omega: float = 2e-5, alpha: float = 0.1, beta: float = 0.85
                       ) -> pd.DataFrame:
    """Seeded daily series frame whose variance follows a GARCH(1,1) (realised variance from 6 returns a day)."""
    rng = np.random.default_rng(seed)
    s = omega / (1 - alpha - beta)
    values, rets = np.empty(n), np.empty(n)
    for t in range(n):
        r_i = rng.standard_normal(6) * np.sqrt(s / 6)
        values[t], rets[t] = float(r_i @ r_i), float(r_i.sum())
        s = omega + alpha * rets[t] ** 2 + beta * s
    index = pd.date_range("2024-01-01", periods=n, freq="1D", tz="UTC", name="ts")
    return pd.DataFrame({"value": values, "ret": rets}, index=index)


def funding_daily_series(n: int, seed: int = 4) -> pd.DataFrame:
    """Seeded AR(1) daily mean funding rate around 1 bp per interval."""
    rng = np.random.default_rng(seed)
    x = np.full(n, 1e-4)
    for t in range(1, n):
        x[t] = 1e-4 + 0.9 * (x[t - 1] - 1e-4) + 3e-5 * rng.standard_normal()
    return pd.DataFrame({"value": x}, index=pd.date_range("2024-01-01", periods=n, freq="1D", tz="UTC", name="ts"))


def median_time(fn: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def demo_series() -> list[tuple[str, pd.DataFrame]]:
    return [("rv_1d", garch_daily_series(110, seed=1)), ("rv_1d", garch_daily_series(110, seed=2)),
            ("rv_7d", garch_daily_series(110, seed=1)), ("rv_7d", garch_daily_series(110, seed=2)),
            ("funding_1d", funding_daily_series(110))]


def demo_training(kind: str) -> None:
    config = DEMO_CONFIG
    for target, frame in demo_series():
        spec = TARGETS[target]
        params = dict(config.lstm) if kind == "lstm" else {}
        test_start = frame.index[-config.test_periods - spec.horizon]
        walk_forward(frame, lambda s=spec, p=params: make_forecaster(kind, s, p), spec.horizon, test_start,
                     config.refit_every)
        make_forecaster(kind, spec, params).fit(frame)


def forecast_day(tmp: Path, kind: str) -> Callable[[], None]:
    import mlflow

    from cryptoderiv.forecast.data import history_payload
    from cryptoderiv.forecast.mlflow_model import log_bundle

    mlflow.set_tracking_uri(f"sqlite:///{tmp.parent}/mlflow.db")  # one store for every case
    mlflow.set_experiment("bench")
    tmp.mkdir(parents=True, exist_ok=True)
    spec = TARGETS["rv_1d"]
    frames = {f"binance:S{i}/USDT": garch_daily_series(200, seed=i) for i in range(5)}
    params = dict(DEMO_CONFIG.lstm) if kind == "lstm" else {}
    bundle = {k: make_forecaster(kind, spec, params).fit(f) for k, f in frames.items()}
    payload = history_payload({k: f.iloc[-120:] for k, f in frames.items()})
    with mlflow.start_run():
        info = log_bundle(bundle, payload, tmp)

    def run() -> None:
        model = mlflow.pyfunc.load_model(info.model_uri)
        out = model.predict(payload)
        assert len(out) == 5 and np.isfinite(out["forecast"]).all()
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    rows: list[tuple[str, float, str, float]] = []
    make_forecaster("lstm", TARGETS["rv_1d"], dict(DEMO_CONFIG.lstm)).fit(garch_daily_series(120, seed=0))  # warm-up
    rows.append(("demo LSTM training (5 series)", median_time(lambda: demo_training("lstm"), args.reps),
                 "HAR-RV", median_time(lambda: demo_training("har"), args.reps)))
    if CANDLES.is_dir():
        btc = realized_from_bars(load_binance_csv(CANDLES / "BTCUSDT_4h.csv"), "1D", 0.8)
        spec = TARGETS["rv_1d"]
        rows.append((f"weekly LSTM fit (real BTC, {len(btc)} d)",
                     median_time(lambda: make_forecaster("lstm", spec, dict(DEFAULT_CONFIG.lstm)).fit(btc), args.reps),
                     "HAR-RV", median_time(lambda: make_forecaster("har", spec).fit(btc), args.reps)))
    with tempfile.TemporaryDirectory() as tmp:
        lstm_day, har_day = forecast_day(Path(tmp) / "a", "lstm"), forecast_day(Path(tmp) / "b", "har")
        rows.append(("forecast a day, 5 series (LSTM bundle)", median_time(lstm_day, args.reps),
                     "HAR bundle", median_time(har_day, args.reps)))
    from arch import arch_model

    r = garch_daily_series(3000, seed=5)
    rows.append(("GARCH(1,1) fit, 3000 returns (ours)",
                 median_time(lambda: make_forecaster("garch", TARGETS["rv_1d"]).fit(r), args.reps), "arch 8",
                 median_time(lambda: arch_model(r["ret"] * 100, mean="Constant").fit(disp="off"), args.reps)))
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'ours s':>9}  {'peer':<12} {'peer s':>9}  {'ours/peer':>9}")
    for name, ours, peer, peer_s in rows:
        print(f"{name:<{width}}  {ours:>9.3f}  {peer:<12} {peer_s:>9.3f}  {ours / peer_s:>9.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as fh:
        fh.write(json.dumps({"when": datetime.now(UTC).isoformat(), "machine": platform.node(), "cpus": os.cpu_count(),
                             "reps": args.reps, "rows": [dict(zip(("case", "ours_s", "peer", "peer_s"), r, strict=True))
                                                         for r in rows]}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
