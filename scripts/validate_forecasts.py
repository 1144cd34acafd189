"""Walk-forward check of the forecasters on real Binance BTC and ETH candles (../shared/data).

Daily realised variance from the 4h candles (sum of the six squared 4h log returns per UTC day; the last,
still-forming candle and any day with fewer than 5 of 6 candles are dropped), 2017-08 .. 2026-01.
Targets: next-day (rv_1d) and next-week mean (rv_7d) daily realised variance of BTC and ETH, and the
next-day mean Binance BTC perpetual funding rate (funding_1d, 2019-09 .. 2026-02). The last two years of
each series are held out and forecast walk-forward with an expanding window, every model refitted every
``--refit-every`` days. Prints, per series and target, QLIKE (variance targets), MSE, MAE, R^2 against
no-change and the Diebold-Mariano test (HLN-corrected; QLIKE losses for variances, squared errors for
funding) of every model against HAR-RV; a negative DM statistic means the model's loss is lower.

Run: ``.venv/bin/python scripts/validate_forecasts.py [--refit-every 91] [--quick]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import pandas as pd

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

from cryptoderiv.forecast.data import TARGETS, load_binance_csv, realized_from_bars
from cryptoderiv.forecast.walkforward import comparison_table, kinds_for, make_forecaster, walk_forward

ROOT = Path(__file__).resolve().parents[1]
MARKET = ROOT.parent / "shared" / "data" / "market"
CANDLES = MARKET / "binance_ohlcv_btc_eth"
FUNDING = MARKET / "perp_funding_basis_dvol" / "funding_daily_mean_lukmol_MIT" / "funding_rates.csv"
HOLDOUT_DAYS = 730
LSTM_PARAMS = {"window": 30, "units": 16, "layers": 1, "epochs": 30, "batch_size": 64, "patience": 5}


def series() -> dict[str, pd.DataFrame]:
    out = {}
    for coin in ("BTC", "ETH"):
        bars = load_binance_csv(CANDLES / f"{coin}USDT_4h.csv", drop_last=True)
        out[coin] = realized_from_bars(bars, "1D", min_coverage=0.8)
    return out


def funding_series() -> pd.DataFrame:
    raw = pd.read_csv(FUNDING)
    frame = pd.DataFrame({"value": raw["funding_mean"].to_numpy(dtype=float)},
                         index=pd.DatetimeIndex(pd.to_datetime(raw["date"], utc=True), name="ts"))
    frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    return frame.iloc[:-1]  # the last day may still be forming


def run(name: str, frame: pd.DataFrame, target_name: str, refit_every: int, lstm_params: dict) -> pd.DataFrame:
    spec = TARGETS[target_name]
    test_start = frame.index[-1] - pd.Timedelta(days=HOLDOUT_DAYS)
    results = {}
    for kind in kinds_for(spec):
        params = lstm_params if kind == "lstm" else {}
        t0 = time.perf_counter()
        results[kind] = walk_forward(frame, lambda k=kind, p=params: make_forecaster(k, spec, p), spec.horizon,
                                     test_start, refit_every, name=kind)
        print(f"  {name} {target_name} {kind}: {len(results[kind].forecasts)} forecasts,"
              f" {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    table = comparison_table(spec, results)
    first, last = results["no_change"].forecasts.index[[0, -1]]
    print(f"\n{name} {target_name} (horizon {spec.horizon} d), out of sample {first:%Y-%m-%d} .. {last:%Y-%m-%d},"
          f" refit every {refit_every} d, {int(table['n'].iloc[0])} forecasts")
    print(table.drop(columns="n").to_string(float_format=lambda v: f"{v:.4g}"))
    return table.assign(series=name, target=target_name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refit-every", type=int, default=91, help="days per walk-forward fold")
    parser.add_argument("--quick", action="store_true", help="5 LSTM epochs (a smoke run, not the result)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not CANDLES.is_dir():
        print(f"real market data not found at {CANDLES}", file=sys.stderr)
        return 2
    lstm_params = dict(LSTM_PARAMS, epochs=5) if args.quick else LSTM_PARAMS
    t0 = time.perf_counter()
    tables = []
    for coin, frame in series().items():
        print(f"{coin}: {len(frame)} days {frame.index[0]:%Y-%m-%d} .. {frame.index[-1]:%Y-%m-%d}", file=sys.stderr)
        for target_name in ("rv_1d", "rv_7d"):
            tables.append(run(coin, frame, target_name, args.refit_every, lstm_params))
    if FUNDING.is_file():
        tables.append(run("BTC perp", funding_series(), "funding_1d", args.refit_every, lstm_params))
    summary = pd.concat(tables)
    lstm = summary.loc["lstm"]
    beats = lstm[(lstm["dm_stat"] < 0) & (lstm["dm_p_value"] / 2 < 0.05)]
    print(f"\nLSTM significantly better than HAR-RV (one-sided DM p < 0.05): {len(beats)} of {len(lstm)} cases"
          + ("" if beats.empty else ": " + ", ".join(f"{s} {t}" for s, t in zip(beats["series"], beats["target"],
                                                                              strict=True))))
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
