"""Validate the Black-76 / implied-vol / inverse-option kernels against every Deribit snapshot.

Run from the project root (``make validate`` runs it; about 30 s for all 236 days)::

    .venv/bin/python scripts/validate_pricing.py [--max-days N] [--market-dir PATH]

Data: ``../shared/data/market/deribit_svcj_snapshots/daily_0900utc_gz`` (one BTC + ETH option chain per UTC day;
prices in coin; ``underlying`` is the expiry's forward; ``implied_volatility`` is Deribit's mark IV / 100).
Conventions used (see :mod:`cryptoderiv.pricing.inverse`): ``t`` = ACT/365 from the snapshot timestamp to the
08:00 UTC expiry (the file's ``time_to_maturity`` is ACT/365.25), undiscounted Black-76 on the forward, coin
premium = USD premium / forward.

Prints, per underlying and over all options, median / p90 absolute errors and counts for:

1. **IV**: our implied volatility from the coin ``mark_price`` and the forward vs ``implied_volatility``, over
   all solvable marks and over marks at least 2 days from expiry; also the share within the data's own
   resolution (mark IV rounded to 1e-4, mark price rounded to the exchange's decimals: 8 for BTC, 6 for ETH,
   so ``|error| <= 5e-5 + half a price tick / coin vega``).
2. **Reason codes** of the IV solve (marks at or below intrinsic are Deribit floors, not solver failures).
3. **Delta**: ``inverse.greeks(...)["delta"]`` at the mark IV vs Deribit's ``delta`` (the undiscounted Black
   forward delta), and the premium-adjusted alternative for contrast.
4. **Price**: coin premium from the mark IV vs ``mark_price``.

Reading the tables: out-of-the-money marks agree to a few 1e-5 of IV.  In-the-money marks agree to ~1e-5 coin
in price but, having little vega, scatter more in IV: their price error grows with delta, i.e. the forward in
the file is not exactly the one each mark was computed with (the chain is collected over a few minutes).
5. **Timing** diagnostic: the shift of the time to expiry that would reconcile each out-of-the-money mark
   (median per snapshot and underlying, minutes), which shows the snapshot timestamp vs marking-time offset.

Exit status 1 when a threshold in ``THRESHOLDS`` fails (pooled over all days).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cryptoderiv.pricing import inverse
from cryptoderiv.pricing.implied_vol import IVReason

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MARKET = ROOT.parent / "shared" / "data" / "market"
THRESHOLDS = {"iv_median_abs": 1e-4, "delta_median_abs": 2e-3}


def load(path: Path) -> pd.DataFrame:
    d = pd.read_csv(path)
    expiry = pd.to_datetime(d.expiry_datetime, format="ISO8601")
    seconds = (expiry - pd.to_datetime(d.timestamp, format="ISO8601")).dt.total_seconds().to_numpy()
    d["t365"] = seconds / (365.0 * 86400.0)
    d["snapshot"] = path.name.split("_")[-1][:8]
    return d


def price_decimals(values: np.ndarray) -> np.ndarray:
    """Number of decimals each price is quoted with (up to 10)."""
    dec = np.full(values.shape, 10)
    for k in range(10, -1, -1):
        scaled = values * 10.0**k
        dec[np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1.0, np.abs(scaled))] = k
    return dec


def evaluate(d: pd.DataFrame) -> pd.DataFrame:
    kind = d.option_type.to_numpy()
    cols = ("underlying", "strike", "t365", "implied_volatility", "mark_price")
    f, k, t, mark_iv, mark = (d[c].to_numpy() for c in cols)
    res = inverse.implied_vol_with_reason_coin(kind, mark, f, k, t)
    g = inverse.greeks(kind, f, k, t, mark_iv)
    tick = 0.5 * 10.0 ** -np.maximum(price_decimals(mark), 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        resolution = 5e-5 + tick / (g["vega"] / f)
        shift_min = (t * (res.vol / mark_iv) ** 2 - t) * 365 * 24 * 60
    otm = np.where(kind == "call", 1.0, -1.0) * np.log(f / k) <= 0
    return pd.DataFrame(
        {
            "snapshot": d.snapshot,
            "currency": d.currency,
            "t": t,
            "reason": res.reason,
            "iv_err": np.abs(res.vol - mark_iv),
            "within_resolution": np.abs(res.vol - mark_iv) <= resolution,
            "delta_err": np.abs(g["delta"] - d.delta.to_numpy()),
            "adjusted_delta_err": np.abs(g["delta_adjusted"] - d.delta.to_numpy()),
            "price_err": np.abs(g["price_coin"] - mark),
            "shift_min": np.where(otm & (res.reason == IVReason.OK), shift_min, np.nan),
            "otm": otm,
        }
    )


def row(label: str, values: pd.Series, fmt: str = ".2e") -> str:
    v = values.dropna()
    if v.empty:
        return f"  {label:<44} {'-':>10} {'-':>10} {0:>9,}"
    return f"  {label:<44} {v.median():>10{fmt}} {v.quantile(0.9):>10{fmt}} {len(v):>9,}"


def report(a: pd.DataFrame, title: str) -> None:
    ok = a[a.reason == IVReason.OK]
    print(f"\n{title}: {len(a):,} options, {a.snapshot.nunique()} snapshots")
    print(f"  {'quantity':<44} {'median':>10} {'p90':>10} {'count':>9}")
    print(row("|IV - mark IV|, all solvable marks", ok.iv_err))
    print(row("|IV - mark IV|, >= 2 days to expiry", ok.iv_err[ok.t >= 2 / 365]))
    print(row("|IV - mark IV|, >= 7 days to expiry", ok.iv_err[ok.t >= 7 / 365]))
    print(row("|IV - mark IV|, out-of-the-money marks", ok.iv_err[ok.otm]))
    print(row("|IV - mark IV|, in-the-money marks", ok.iv_err[~ok.otm]))
    print(row("|delta - Deribit delta| (Black forward delta)", a.delta_err))
    print(row("|delta_adjusted - Deribit delta| (contrast)", a.adjusted_delta_err))
    print(row("|coin price at mark IV - mark price| (coin)", a.price_err))
    print(f"  IV within the data's resolution: {ok.within_resolution.mean():.1%} of solvable marks")
    counts = {IVReason(int(c)).name: int(n) for c, n in zip(*np.unique(a.reason, return_counts=True), strict=True)}
    print(f"  reason codes: {counts}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-days", type=int, default=0, help="only the first N snapshots (0 = all)")
    parser.add_argument("--market-dir", type=Path, default=DEFAULT_MARKET)
    args = parser.parse_args(argv)
    folder = args.market_dir / "deribit_svcj_snapshots" / "daily_0900utc_gz"
    files = sorted(folder.glob("*.csv.gz"))
    if args.max_days:
        files = files[: args.max_days]
    if not files:
        print(f"no snapshots under {folder} (../shared/data is not checked out); nothing to validate")
        return 0
    t0 = time.perf_counter()
    a = pd.concat([evaluate(load(p)) for p in files], ignore_index=True)
    print(f"validate_pricing: {len(files)} Deribit snapshots, {len(a):,} options ({time.perf_counter() - t0:.1f} s)")
    for currency, group in a.groupby("currency"):
        report(group, str(currency))
    report(a, "all")

    shifts = a.groupby(["currency", "snapshot"]).shift_min.median()
    print("\nmarking-time diagnostic: median shift of t that reconciles the OTM marks, per snapshot (minutes)")
    for currency, s in shifts.groupby(level=0):
        print(f"  {currency}: median {s.median():+.2f}, p10 {s.quantile(0.1):+.2f}, p90 {s.quantile(0.9):+.2f}")

    ok = a[a.reason == IVReason.OK]
    checks = {
        "iv_median_abs": float(ok.iv_err.median()),
        "delta_median_abs": float(a.delta_err.median()),
    }
    failed = [name for name, value in checks.items() if not value <= THRESHOLDS[name]]
    print("\nthresholds: " + ", ".join(f"{n} {checks[n]:.2e} <= {THRESHOLDS[n]:.0e}" for n in checks))
    print("FAILED: " + ", ".join(failed) if failed else "all thresholds met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
