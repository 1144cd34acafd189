"""Quality gate speed: validating a 1,000,000-row batch with its table's Great Expectations suite.

Two batches, both clean (every rule evaluated on every row, nothing short-circuits):

- ``ohlcv``: 1m candles of 6 instruments (26 rules);
- ``option_quotes``: ~510 snapshots of a 1,968-option Deribit-style chain (46 rules, the cross-row
  derivative rules among them: parity pairs, strike convexity, calendar).

Each is validated ``--reps`` times after a warm-up (GX import, expectation registration); the median
is printed against the 5 s goal. Side by side, the same batch's custom conditions evaluated directly
with NumPy (no GX) show what the GX machinery costs on top. Results go to benchmarks/results/quality.json.

Usage: python benchmarks/bench_quality.py [--rows N] [--reps N] [--table ohlcv|option_quotes|both]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import pandas as pd

from cryptoderiv.quality import conditions, frames, synthetic
from cryptoderiv.quality.policy import DEFAULT_POLICY
from cryptoderiv.quality.validation import validate_frame

RESULTS = Path(__file__).parent / "results"
START = pd.Timestamp("2026-03-02T00:00:00Z")
GOAL_SECONDS = 5.0


def ohlcv_batch(rows: int) -> tuple[pd.DataFrame, tuple[pd.Timestamp, pd.Timestamp]]:
    catalog = synthetic.instruments(START)
    series = int((catalog["kind"].isin(["spot", "perpetual"])).sum())
    minutes = -(-rows // series)  # whole series, so the grid is complete (rows rounded up to a multiple)
    frame = synthetic.ohlcv(catalog, START, minutes)
    return frame, (START, START + pd.Timedelta(minutes=minutes))


def option_batch(rows: int) -> tuple[pd.DataFrame, tuple[pd.Timestamp, pd.Timestamp]]:
    expiries = (1, 2, 3, 7, 14, 21, 30, 60, 91, 182, 273, 365)
    catalog = synthetic.instruments(START, expiry_days=expiries, strikes_per_side=20)
    chain = int((catalog["kind"] == "option").sum())
    snapshots = [START + pd.Timedelta(minutes=i) for i in range(-(-rows // chain))]
    frame = synthetic.option_quotes(catalog, snapshots).iloc[:rows]
    return frame, (START, snapshots[-1] + pd.Timedelta(minutes=1))


def conditions_only(table: str, frame: pd.DataFrame) -> float:
    """Seconds to evaluate the table's custom row conditions directly (the work GX wraps)."""
    p = DEFAULT_POLICY
    started = time.perf_counter()
    if table == "ohlcv":
        conditions.bars_on_grid_ok(frame)
        conditions.bars_within_window_ok(frame, START, None)
        conditions.bar_grid_gaps(frame, ["exchange", "symbol"])
    else:
        conditions.quotes_fresh_ok(frame, p.quote_max_age_seconds, p.quote_max_lead_seconds)
        conditions.expiry_after_snapshot_ok(frame)
        conditions.time_to_expiry_consistent_ok(frame, p.time_to_expiry_tolerance_hours)
        conditions.strike_on_grid_ok(frame, p.strike_grid)
        conditions.premium_units_ok(frame, p.usd_conversion_tolerance)
        conditions.mark_consistent_with_iv_ok(frame, p.mark_iv_band)
        conditions.mark_within_bounds_ok(frame, p.intrinsic_band)
        conditions.forward_near_index_ok(frame, p.forward_index_soft_abs, p.forward_index_soft_apr)
        conditions.parity_marks_ok(frame, p.parity_mark_band)
        conditions.parity_quotes_ok(frame, p.parity_quote_band)
        conditions.call_strike_arbitrage_ok(frame, p.strike_arbitrage_tolerance)
        conditions.calendar_ok(frame, p.calendar_rel_tolerance, p.calendar_abs_tolerance,
                               p.calendar_max_standardised_moneyness)
    return time.perf_counter() - started


def bench(table: str, rows: int, reps: int) -> dict[str, object]:
    make = ohlcv_batch if table == "ohlcv" else option_batch
    frame, window = make(rows)
    batch = frames.prepare_offline(table, frame)
    validate_frame(table, batch.iloc[:2_000].reset_index(drop=True), window)  # warm-up: imports, registration
    times, rules, failures = [], 0, []
    for _ in range(reps):
        run = validate_frame(table, batch, window)
        times.append(run.seconds)
        rules, failures = len(run.outcomes), [o.name for o in run.failures]
    direct = statistics.median(conditions_only(table, batch) for _ in range(reps))
    median = statistics.median(times)
    print(f"{table:14s} {len(batch):>9,d} rows  {rules} rules  median {median:5.2f}s  "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)})  {len(batch) / median / 1e6:4.2f} M rows/s  "
          f"goal <= {GOAL_SECONDS:.0f}s: {'met' if median <= GOAL_SECONDS else 'MISSED'}")
    print(f"{'':14s} custom conditions alone (NumPy, no GX): {direct:5.2f}s  -> GX machinery x{median / direct:.1f}")
    if failures:
        print(f"{'':14s} unexpected failures on a clean batch: {failures}")
    return {"table": table, "rows": len(batch), "rules": rules, "runs_s": times, "median_s": median,
            "conditions_only_s": direct, "goal_s": GOAL_SECONDS, "met": median <= GOAL_SECONDS,
            "clean": not failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--table", choices=["ohlcv", "option_quotes", "both"], default="both")
    args = parser.parse_args()
    if args.reps < 3:
        parser.error("--reps must be at least 3 (the median of three or more runs is reported)")
    tables = ["ohlcv", "option_quotes"] if args.table == "both" else [args.table]
    results = [bench(table, args.rows, args.reps) for table in tables]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "quality.json").write_text(json.dumps(results, indent=2) + "\n")
    met = all(r["met"] and r["clean"] for r in results)
    print(f"goal (a clean 1,000,000-row batch validated in <= {GOAL_SECONDS:.0f} s, median): "
          f"{'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
