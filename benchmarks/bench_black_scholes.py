"""Black-Scholes / Black-76 throughput: price plus all seven greeks, options per second.

Run: ``.venv/bin/python benchmarks/bench_black_scholes.py [--n 1000000] [--reps 5]`` (``make bench`` runs every
``benchmarks/bench_*.py``).  Prints an aligned table and writes one JSON line to
``benchmarks/results/black_scholes.json``.

Options: calls and puts, spot 100, log-moneyness uniform in [-0.5, 0.5], expiry uniform in [1 day, 2 years],
volatility uniform in [5 %, 150 %], rate in [0, 5 %], yield in [0, 3 %], seed 20240611.  Each row is the median
of ``--reps`` runs after a warm-up (JIT compilation excluded), the rows interleaved round-robin so that they
share the load of a busy machine equally, measured through the public functions (argument validation,
broadcasting and the output arrays included):

* ``black_scholes.price_and_greeks`` (price, delta, gamma, vega, theta, rho, vanna, volga) with all threads
  numba is allowed (``NUMBA_NUM_THREADS``) and pinned to one thread,
* ``black_scholes.price`` alone, and ``black76.price_and_greeks`` on the equivalent forwards,
* for scale, the same price and greeks written as fused NumPy/SciPy array expressions (``scipy.special.ndtr``),
  which is what a straightforward vectorised implementation costs.

The goal for this machine is 10 million options per second for price plus all greeks.
"""

from __future__ import annotations

import argparse
import json
import math
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
from scipy.special import ndtr

from cryptoderiv.pricing import black76, black_scholes

RESULTS = Path(__file__).resolve().parent / "results" / "black_scholes.json"
SEED = 20240611
GOAL = 10_000_000


def options(n: int, seed: int = SEED) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    spot = np.full(n, 100.0)
    return {
        "kind": theta,
        "spot": spot,
        "strike": spot * np.exp(-rng.uniform(-0.5, 0.5, n)),
        "t": rng.uniform(1 / 365, 2.0, n),
        "rate": rng.uniform(0.0, 0.05, n),
        "vol": rng.uniform(0.05, 1.5, n),
        "div": rng.uniform(0.0, 0.03, n),
    }


def numpy_reference(o: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Textbook closed forms as NumPy expressions (the baseline; not as accurate in the tails)."""
    th, s, k, t, r, v, q = o["kind"], o["spot"], o["strike"], o["t"], o["rate"], o["vol"], o["div"]
    sq = np.sqrt(t)
    sd = v * sq
    d1 = (np.log(s / k) + (r - q) * t) / sd + 0.5 * sd
    d2 = d1 - sd
    dq, dr = np.exp(-q * t), np.exp(-r * t)
    n1, n2 = ndtr(th * d1), ndtr(th * d2)
    pdf = np.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi)
    vega = s * dq * pdf * sq
    return {
        "price": th * (s * dq * n1 - k * dr * n2),
        "delta": th * dq * n1,
        "gamma": dq * pdf / (s * sd),
        "vega": vega,
        "theta": -0.5 * s * dq * pdf * v / sq - th * r * k * dr * n2 + th * q * s * dq * n1,
        "rho": th * k * t * dr * n2,
        "vanna": -dq * pdf * d2 / v,
        "volga": vega * d1 * d2 / v,
    }


def interleaved_times(contenders: list[tuple[str, int, Callable[[], Any]]], reps: int) -> list[tuple[float, float]]:
    """Median wall and process-CPU seconds per contender; runs interleaved round-robin after one warm-up each."""
    default_threads = numba.get_num_threads()
    for _, threads, fn in contenders:
        numba.set_num_threads(threads)
        fn()
    walls: list[list[float]] = [[] for _ in contenders]
    cpus: list[list[float]] = [[] for _ in contenders]
    try:
        for _ in range(reps):
            for i, (_, threads, fn) in enumerate(contenders):
                numba.set_num_threads(threads)
                c0, t0 = time.process_time(), time.perf_counter()
                fn()
                walls[i].append(time.perf_counter() - t0)
                cpus[i].append(time.process_time() - c0)
    finally:
        numba.set_num_threads(default_threads)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus, strict=True)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    n, reps = args.n, args.reps
    o = options(n)
    bs_args = (o["kind"], o["spot"], o["strike"], o["t"], o["rate"], o["vol"], o["div"])
    fwd = o["spot"] * np.exp((o["rate"] - o["div"]) * o["t"])
    b76_args = (o["kind"], fwd, o["strike"], o["t"], o["vol"], np.exp(-o["rate"] * o["t"]))
    threads = numba.get_num_threads()

    contenders: list[tuple[str, int, Callable[[], Any]]] = [
        ("black_scholes.price_and_greeks", threads, lambda: black_scholes.price_and_greeks(*bs_args)),
        ("black_scholes.price_and_greeks", 1, lambda: black_scholes.price_and_greeks(*bs_args)),
        ("black76.price_and_greeks", threads, lambda: black76.price_and_greeks(*b76_args)),
        ("black_scholes.price (price only)", threads, lambda: black_scholes.price(*bs_args)),
        ("NumPy/SciPy closed forms", 1, lambda: numpy_reference(o)),
    ]
    timed = interleaved_times(contenders, reps)
    rows = [(name, f"{thr} thread{'s' if thr > 1 else ''}", wall, cpu)
            for (name, thr, _), (wall, cpu) in zip(contenders, timed, strict=True)]

    ours = black_scholes.price_and_greeks(*bs_args)
    ref = numpy_reference(o)
    agree = max(float(np.max(np.abs(ours[k] - ref[k]) / np.maximum(np.abs(ref[k]), 1e-300))) for k in ("price", "vega"))

    print(f"price + 7 greeks, {n:,} options (median of {reps} runs; {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}); goal {GOAL:,} options/s")
    print(f"{'function':<34} {'threads':<10} {'wall s':>8} {'CPU s':>7} {'options/s':>13} {'vs goal':>8}")
    results: dict[str, Any] = {}
    for name, thr, secs, cpu in rows:
        print(f"{name:<34} {thr:<10} {secs:8.4f} {cpu:7.4f} {n / secs:13,.0f} {n / secs / GOAL:8.2f}")
        results[f"{name} ({thr})"] = {"seconds": secs, "cpu_seconds": cpu, "options_per_second": n / secs}
    print(f"(our price and vega vs the NumPy closed forms: max relative difference {agree:.1e}, where the "
          f"closed forms lose accuracy in the tails)")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "black_scholes",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "n": n,
        "reps": reps,
        "threads": threads,
        "goal_options_per_second": GOAL,
        "machine": platform.processor() or platform.machine(),
        "load_average": os.getloadavg()[0],
        "results": results,
    }
    RESULTS.write_text(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
