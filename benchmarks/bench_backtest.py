"""Backtest throughput: a 1-minute SMA crossover over millions of bars WITH perpetual funding, ours vs vectorbt.

Run: ``.venv/bin/python benchmarks/bench_backtest.py [--bars 5000000] [--reps 5]`` (``make bench`` runs every
``benchmarks/bench_*.py``).  Prints an aligned table and writes one JSON line to
``benchmarks/results/backtest.json``.

Data (the same arrays for both): a seeded lognormal 1m close path (60 % annual vol, seed 20240611) and
funding every 480 bars (8 h, as on Binance) drawn around 1 bp per interval.  Strategy: fast SMA 60, slow
SMA 720 (1 h / 12 h), long on an up-cross, flat on a down-cross, all-in sizing, fee 4 bp (Binance USD-M taker), no
slippage.

How funding is applied, honestly:

* **ours** (``cryptoderiv.strategy``): inside the simulation, each 8 h bar charges
  ``-units * mark * rate`` to equity before that bar's trade, so it compounds into the next all-in size.
* **vectorbt** (``Portfolio.from_signals``) has no funding.  The row "vectorbt + funding (post hoc)" adds
  it afterwards: ``pf.assets()`` (coins held after each bar) shifted one bar, times the close and the rate,
  summed and subtracted from ``pf.value()``.  That is an approximation (funding does not change vectorbt's
  order sizes), and it costs vectorbt an extra pass over the portfolio.  The row "vectorbt (no funding)" is
  the bare simulation.

Every row times the whole path from the close array to an equity curve: both SMAs, the crossing signals
and the simulation.  Median of ``--reps`` interleaved repetitions after a warm-up (JIT compilation
excluded).  A parity line reports how far our no-funding equity is from vectorbt's (same trades, same
fees): a check that both run the same strategy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cryptoderiv.strategy.engine import CostModel, run
from cryptoderiv.strategy.trend import sma_crossover_targets

RESULTS = Path(__file__).resolve().parent / "results" / "backtest.json"
SEED = 20240611
FAST, SLOW = 60, 720
FEE = 0.0004
INIT = 10_000.0


def make_data(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    step = 0.6 / np.sqrt(365 * 24 * 60)
    close = 30_000.0 * np.exp(np.cumsum(rng.normal(0.0, step, n)))
    ts = np.datetime64("2015-01-01T00:00", "ns") + np.arange(n) * np.timedelta64(1, "m")
    funding = np.where(np.arange(n) % 480 == 0, rng.normal(1e-4, 2e-4, n), 0.0)
    return ts, close, funding


def ours(ts: np.ndarray, close: np.ndarray, funding: np.ndarray | None) -> np.ndarray:
    target = sma_crossover_targets(close, FAST, SLOW)
    return run(ts, close, target, sizing="weight", costs=CostModel(fee=FEE), funding=funding,
               initial_equity=INIT).equity


def vectorbt_run(vbt: Any, close_s: pd.Series, funding: np.ndarray | None) -> np.ndarray:
    fast = vbt.MA.run(close_s, FAST)
    slow = vbt.MA.run(close_s, SLOW)
    pf = vbt.Portfolio.from_signals(close_s, fast.ma_crossed_above(slow), fast.ma_crossed_below(slow),
                                    fees=FEE, init_cash=INIT, freq="1min")
    value = pf.value().to_numpy()
    if funding is None:
        return np.asarray(value)
    held = np.concatenate(([0.0], pf.assets().to_numpy()[:-1]))
    return np.asarray(value - np.cumsum(held * close_s.to_numpy() * funding))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=5_000_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import vectorbt as vbt

    ts, close, funding = make_data(args.bars)
    close_s = pd.Series(close, index=pd.DatetimeIndex(ts))
    # warm-up on a small slice: JIT compilation excluded from the timings
    small = slice(0, 20_000)
    ours(ts[small], close[small], funding[small])
    vectorbt_run(vbt, close_s.iloc[small], funding[small])

    rows: dict[str, Callable[[], np.ndarray]] = {
        "ours, funding applied in the simulation": lambda: ours(ts, close, funding),
        "ours, no funding": lambda: ours(ts, close, None),
        "vectorbt + funding (post hoc)": lambda: vectorbt_run(vbt, close_s, funding),
        "vectorbt (no funding)": lambda: vectorbt_run(vbt, close_s, None),
    }
    times: dict[str, list[float]] = {name: [] for name in rows}
    outputs: dict[str, np.ndarray] = {}
    for _ in range(args.reps):
        for name, fn in rows.items():
            t0 = time.perf_counter()
            outputs[name] = fn()
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(v) for name, v in times.items()}
    rate = {name: args.bars / med[name] for name in rows}

    print(f"SMA({FAST}/{SLOW}) crossover, {args.bars:,} 1m bars, fee {FEE * 1e4:.0f} bp, "
          f"funding every 480 bars; median of {args.reps} reps; vectorbt {vbt.__version__}, "
          f"numpy {np.__version__}, pandas {pd.__version__}, {os.cpu_count()} CPUs")
    width = max(len(n) for n in rows)
    print(f"{'':{width}}  {'seconds':>8}  {'bars/s':>14}")
    for name in rows:
        print(f"{name:{width}}  {med[name]:8.3f}  {rate[name]:14,.0f}")
    ratio_funding = rate["ours, funding applied in the simulation"] / rate["vectorbt + funding (post hoc)"]
    ratio_vs_bare = rate["ours, funding applied in the simulation"] / rate["vectorbt (no funding)"]
    print(f"ratio ours-with-funding / vectorbt-with-post-hoc-funding: {ratio_funding:.2f}x")
    print(f"ratio ours-with-funding / vectorbt-without-funding:       {ratio_vs_bare:.2f}x "
          f"(goal: >= 1)")
    a = outputs["ours, no funding"]
    b = outputs["vectorbt (no funding)"]
    parity = float(np.max(np.abs(np.log(a / b))))
    f_ours = outputs["ours, funding applied in the simulation"][-1]
    f_vbt = outputs["vectorbt + funding (post hoc)"][-1]
    print(f"parity (no funding): max |ln(ours / vectorbt)| = {parity:.2e}; final equity with funding: "
          f"ours {f_ours:,.2f}, vectorbt post hoc {f_vbt:,.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({
            "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.node(),
            "bars": args.bars, "reps": args.reps, "seconds": med, "bars_per_second": rate,
            "ratio_with_funding": ratio_funding, "ratio_vs_vectorbt_without_funding": ratio_vs_bare,
            "parity_max_rel": parity, "vectorbt": vbt.__version__,
        }) + "\n")


if __name__ == "__main__":
    main()
