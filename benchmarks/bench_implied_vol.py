"""Implied-volatility speed and accuracy: ours vs py_vollib_vectorized (Jaeckel's "Let's Be Rational" in numba).

Run: ``.venv/bin/python benchmarks/bench_implied_vol.py [--n 1000000] [--reps 5]`` (``make bench`` runs every
``benchmarks/bench_*.py``).  Prints an aligned table and writes one JSON line to
``benchmarks/results/implied_vol.json``.

The set (``tests/unit/pricing/test_implied_vol.py::million_options``, seed 20240611): log-moneyness ``ln(F/K)``
uniform in [-0.5, 0.5], expiry uniform in [7 days, 2 years], volatility uniform in [5 %, 150 %], calls and
puts with probability 1/2, ``F = 100``, undiscounted.  Prices are computed once with
``cryptoderiv.pricing.black76.price`` (mpmath-accurate) and both solvers get the same float64 prices and the same
``"c"``/``"p"`` flag array, in one process, through their public vectorised functions:

* ``cryptoderiv.pricing.implied_vol.implied_vol(kind, price, F, K, t)`` (numba, multi-threaded above 20,000
  options; also timed pinned to one thread),
* ``py_vollib_vectorized.vectorized_implied_volatility_black(price, F, K, r=0, t, flag, return_as="numpy")``
  (numba, single-threaded).

Each timing is the median of ``--reps`` runs after a warm-up (JIT compilation excluded); the contenders run
interleaved (round-robin) so that they share the load of a busy machine equally.  Wall time decides the
ratio; the CPU time of the process (all threads) is printed next to it.  Accuracy is the
round-trip relative error ``|iv - vol| / vol``, reported over the well-conditioned options (condition number of
the vol with respect to the price ``kappa = V / (sigma vega) <= 100`` and price >= 1e-300) and over all.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numba
import numpy as np

from cryptoderiv.pricing import black76
from cryptoderiv.pricing.implied_vol import implied_vol, vol_condition_number

RESULTS = Path(__file__).resolve().parent / "results" / "implied_vol.json"
SEED = 20240611


def million_options(n: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """Same definition as ``tests/unit/pricing/test_implied_vol.py::million_options``."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.5, 0.5, n)
    t = rng.uniform(7 / 365, 2.0, n)
    vol = rng.uniform(0.05, 1.5, n)
    kind = np.where(rng.random(n) < 0.5, "call", "put")
    forward = np.full(n, 100.0)
    return {"kind": kind, "forward": forward, "strike": forward * np.exp(-x), "t": t, "vol": vol}


def interleaved_times(
    contenders: list[tuple[str, int, Callable[[], Any]]], reps: int
) -> list[tuple[float, float, Any]]:
    """Median wall and CPU (all threads of this process) seconds per contender, runs interleaved round-robin.

    Interleaving (A, B, C, A, B, C, ...) gives every contender the same share of whatever else the shared
    machine is doing; each contender is warmed up once first (JIT compilation excluded).
    """
    default_threads = numba.get_num_threads()
    outs: list[Any] = []
    for _, threads, fn in contenders:
        numba.set_num_threads(threads)
        outs.append(fn())
    walls: list[list[float]] = [[] for _ in contenders]
    cpus: list[list[float]] = [[] for _ in contenders]
    try:
        for _ in range(reps):
            for i, (_, threads, fn) in enumerate(contenders):
                numba.set_num_threads(threads)
                c0, t0 = time.process_time(), time.perf_counter()
                outs[i] = fn()
                walls[i].append(time.perf_counter() - t0)
                cpus[i].append(time.process_time() - c0)
    finally:
        numba.set_num_threads(default_threads)
    return [(statistics.median(w), statistics.median(c), o) for w, c, o in zip(walls, cpus, outs, strict=True)]


def accuracy(iv: np.ndarray, vol: np.ndarray, well: np.ndarray) -> dict[str, float]:
    with np.errstate(invalid="ignore"):
        err = np.abs(iv - vol) / vol
    finite = np.isfinite(err)
    return {
        "median_well": float(np.median(err[well & finite])),
        "p99_well": float(np.percentile(err[well & finite], 99)),
        "max_well": float(np.max(err[well & finite])),
        "failed_well": int(np.sum(well & ~finite)),
        "median_all": float(np.median(err[finite])),
        "p99_all": float(np.percentile(err[finite], 99)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)

    from py_vollib_vectorized import vectorized_implied_volatility_black

    opts = million_options(args.n)
    flags = np.where(opts["kind"] == "call", "c", "p")
    f, k, t, vol = opts["forward"], opts["strike"], opts["t"], opts["vol"]
    price = black76.price(flags, f, k, t, vol)
    kappa = vol_condition_number(flags, f, k, t, vol)
    well = (kappa <= 100) & (price >= 1e-300)

    def ours() -> np.ndarray:
        return implied_vol(flags, price, f, k, t)

    def theirs() -> np.ndarray:
        return vectorized_implied_volatility_black(price, f, k, 0.0, t, flags, on_error="ignore", return_as="numpy")

    threads = numba.get_num_threads()
    contenders = [
        ("cryptoderiv implied_vol", threads, ours),
        ("cryptoderiv implied_vol", 1, ours),
        ("py_vollib_vectorized 0.1.1", 1, theirs),
    ]
    timed = interleaved_times(contenders, args.reps)
    rows = [
        (name, f"{thr} thread{'s' if thr > 1 else ''}", wall, cpu, np.asarray(out, dtype=np.float64).ravel())
        for (name, thr, _), (wall, cpu, out) in zip(contenders, timed, strict=True)
    ]
    t_ours, t_one, t_pvv = (r[2] for r in rows)

    n = args.n
    print(f"implied volatility, {n:,} options (median of {args.reps} runs; {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f})")
    print(f"{'solver':<28} {'threads':<10} {'wall s':>8} {'CPU s':>7} {'options/s':>12} {'vs pvv':>7} "
          f"{'median err':>11} {'p99 err':>10} {'max err':>10}   (well-conditioned: {well.mean():.1%})")
    results: dict[str, Any] = {}
    for name, thr, secs, cpu, iv in rows:
        acc = accuracy(iv, vol, well)
        print(f"{name:<28} {thr:<10} {secs:8.3f} {cpu:7.3f} {n / secs:12,.0f} {t_pvv / secs:7.2f} "
              f"{acc['median_well']:11.2e} {acc['p99_well']:10.2e} {acc['max_well']:10.2e}")
        results[f"{name} ({thr})"] = {"seconds": secs, "cpu_seconds": cpu, "options_per_second": n / secs,
                                      "ratio_vs_pvv": t_pvv / secs, **acc}
    print(f"speed-up vs py_vollib_vectorized: {t_pvv / t_ours:.2f}x ({threads} threads), "
          f"{t_pvv / t_one:.2f}x (1 thread)")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "implied_vol",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "n": n,
        "reps": args.reps,
        "threads": threads,
        "machine": platform.processor() or platform.machine(),
        "load_average": os.getloadavg()[0],
        "well_conditioned_fraction": float(well.mean()),
        "results": results,
    }
    RESULTS.write_text(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
