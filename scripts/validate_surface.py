"""Validate the IV-surface fit and the 30-day variance index against real Deribit data.

Run from the project root (``make validate`` runs it; about 3-4 minutes on one core for all 236 days)::

    .venv/bin/python scripts/validate_surface.py [--max-days N] [--market-dir PATH]

Data: ``../shared/data/market/deribit_svcj_snapshots/daily_0900utc_gz`` (one Deribit BTC + ETH option-chain
snapshot per UTC day, closest to 09:00 UTC) and the Deribit BTC DVOL daily closes in
``../shared/data/market/perp_funding_basis_dvol/dvol_btc_daily_isayggyo_nolicense/dvol_btc.csv``.

Prints, per underlying:

1. Surface fit on the liquid quotes (filter: :class:`cryptoderiv.surface.chain.LiquidityFilter` defaults -
   out-of-the-money, bid and ask > 0, ``(ask - bid)/mid <= 0.5``, open interest >= 1, ``t >= 1/365``,
   ``0.6 <= K/F <= 1.4``): share of quotes whose fitted IV lies inside the bid/ask IV, RMSE of IV (vol
   points) and of the coin premium against the mid; SSVI (one global arbitrage-free surface) for contrast.
2. Static-arbitrage flags in the raw quotes (Deribit marks; executable bid/ask trades) and in the fits.
3. Our 30-day variance index (Cboe method on Deribit marks) against DVOL (BTC), with the timing described
   in ``docs/metrics.md``: DVOL is a daily-close series; the snapshot (~09:20 UTC) is compared with DVOL
   interpolated in time between the closes at 00:00 UTC before and after it (primary), and with the close
   at 00:00 UTC of the snapshot day (9 h earlier, no look-ahead).

Exit status 1 when a stated threshold fails (see ``THRESHOLDS``).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cryptoderiv.analytics.term_structure import atm_term_structure
from cryptoderiv.analytics.variance_index import VarianceIndexError, daily_close_at, variance_index
from cryptoderiv.surface.arbitrage import (
    quote_calendar_violations,
    quote_strike_violations,
    surface_butterfly_violations,
    surface_calendar_violations,
)
from cryptoderiv.surface.chain import LiquidityFilter, OptionChain
from cryptoderiv.surface.fit_quality import fit_quality
from cryptoderiv.surface.ssvi import SSVIError, fit_ssvi
from cryptoderiv.surface.vol_surface import SurfaceError, fit_surface, quote_ivs

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MARKET = PROJECT_ROOT.parent / "shared" / "data" / "market"
SNAPSHOT_DIR = "deribit_svcj_snapshots/daily_0900utc_gz"
DVOL_CSV = "perp_funding_basis_dvol/dvol_btc_daily_isayggyo_nolicense/dvol_btc.csv"
HALF_TICK_COIN = 5e-5   # Deribit BTC/ETH option tick is 0.0001 coin; a price tolerance of rtol * F in USD
WINDOW_CANDIDATES: tuple[float | None, ...] = (2.0, 2.5, 3.0, 3.5, 4.0, 5.0, None)

THRESHOLDS = {
    "dvol_median_abs_vol_pts": 3.0,      # full-strip index vs DVOL (time-interpolated), all days
    "inside_share_min": 0.80,            # pooled share of liquid quotes with fitted IV inside bid/ask
    "rmse_iv_median_max_vol_pts": 1.0,   # median over days of the daily IV RMSE
}


@dataclass(frozen=True)
class Snapshot:
    """One snapshot file and its UTC time (from the file name)."""

    time: pd.Timestamp
    path: Path


def snapshot_files(market: Path) -> list[Snapshot]:
    """All daily snapshot files, sorted by time."""
    out = []
    for p in sorted((market / SNAPSHOT_DIR).glob("deribit_options_snapshot_*.csv.gz")):
        m = re.search(r"(\d{8}T\d{6})Z", p.name)
        if m:
            out.append(Snapshot(pd.Timestamp(m.group(1)), p))  # naive UTC
    return out


def load_dvol(market: Path) -> pd.Series:
    """Deribit BTC DVOL daily closes indexed by candle-open day (naive UTC dates)."""
    df = pd.read_csv(market / DVOL_CSV, parse_dates=["date"])
    return df.set_index("date")["dvol"].astype(float).sort_index()


def evaluate_snapshot(frame: pd.DataFrame, when: pd.Timestamp, currency: str,
                      liquidity: LiquidityFilter | None = None) -> dict[str, float]:
    """Fit, fit quality, arbitrage flags and variance indices of one currency of one snapshot."""
    chain = OptionChain.from_deribit_snapshot(frame, currency)
    liq = (liquidity or LiquidityFilter()).mask(chain)
    ivs = quote_ivs(chain, liq)
    row: dict[str, float] = {"time": when.value, "n_quotes": len(chain), "n_liquid": int(liq.sum())}
    try:
        surface = fit_surface(chain, ivs=ivs)
    except SurfaceError:
        surface = None
    if surface is not None:
        q = fit_quality(chain, surface, ivs, liq)
        row.update(n_fit=q.n, inside=q.inside_share, rmse_iv=q.rmse_iv, mae_iv=q.mae_iv,
                   rmse_coin=q.rmse_premium_coin, mae_coin=q.mae_premium_coin,
                   n_slices=len(surface.slices),
                   fit_butterfly_slices=int(surface_butterfly_violations(surface)["t"].nunique()),
                   fit_calendar_pairs=int(surface_calendar_violations(surface)["t"].nunique()))
        row["atm30_svi"] = float(atm_term_structure(surface).constant_maturity([30.0])[0])
    # SSVI on the same quotes, fitted to mid IV with the same spread weights
    use = liq & np.isfinite(ivs.mid) & np.isfinite(ivs.spread)
    try:
        ss = fit_ssvi(chain.t[use], chain.log_moneyness[use], ivs.mid[use] ** 2 * chain.t[use],
                      1.0 / np.maximum(ivs.spread[use], 0.005) / (2 * ivs.mid[use] * chain.t[use]) ** 2)
        fit_iv = ss.implied_vol_k(chain.t[use], chain.log_moneyness[use])
        row["ssvi_inside"] = float(np.mean((fit_iv >= ivs.bid[use]) & (fit_iv <= ivs.ask[use])))
        row["ssvi_rmse_iv"] = float(np.sqrt(np.mean((fit_iv - ivs.mid[use]) ** 2)))
    except SSVIError:
        pass
    # static-arbitrage flags in the raw quotes
    for price in ("mark", "tradable"):
        v = quote_strike_violations(chain, price)
        row[f"q_{price}_butterfly"] = int((v["check"] == "butterfly").sum())
        row[f"q_{price}_vertical"] = int(v["check"].str.startswith("vertical").sum())
    v = quote_strike_violations(chain, "mark", rtol=HALF_TICK_COIN)   # only breaches above half a tick
    row["q_mark_butterfly_tick"] = int((v["check"] == "butterfly").sum())
    row["q_mark_vertical_tick"] = int(v["check"].str.startswith("vertical").sum())
    row["q_mark_calendar"] = len(quote_calendar_violations(chain))
    # variance indices
    try:
        for w in WINDOW_CANDIDATES:
            row[f"vix_{w}"] = variance_index(chain, window_sd=w).points
        row["vix_mid"] = variance_index(chain, price="mid").points
    except VarianceIndexError:
        pass
    return row


def error_stats(err: pd.Series) -> dict[str, float]:
    """n, median |e|, mean e, p90 |e| of a series of errors (NaNs dropped)."""
    e = err.dropna()
    if e.empty:
        return {"n": 0, "median_abs": np.nan, "mean": np.nan, "p90_abs": np.nan}
    return {"n": int(e.size), "median_abs": float(e.abs().median()), "mean": float(e.mean()),
            "p90_abs": float(e.abs().quantile(0.9))}


def dvol_reference(times: pd.Series, dvol: pd.Series) -> pd.DataFrame:
    """DVOL at each snapshot time: time-interpolated between daily closes, and the close before (00:00 UTC)."""
    t = times.to_numpy(dtype="datetime64[s]")
    interp = daily_close_at(t, dvol.index.to_numpy(dtype="datetime64[D]"), dvol.to_numpy())
    day = times.dt.normalize()
    before = (day - pd.Timedelta(days=1)).map(dvol)   # candle D-1 closes at D 00:00 UTC
    return pd.DataFrame({"dvol_interp": interp, "dvol_0000": before.to_numpy()}, index=times.index)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--market-dir", type=Path, default=DEFAULT_MARKET)
    ap.add_argument("--max-days", type=int, default=None, help="only the first N snapshots")
    args = ap.parse_args(argv)
    market: Path = args.market_dir
    if not (market / SNAPSHOT_DIR).is_dir():
        print(f"SKIP: market data not found under {market}")
        return 0
    snaps = snapshot_files(market)[: args.max_days]
    rows: list[dict[str, float]] = []
    start = time.perf_counter()
    for i, snap in enumerate(snaps):
        frame = pd.read_csv(snap.path)
        for cur in ("BTC", "ETH"):
            r = evaluate_snapshot(frame, snap.time, cur)
            r["currency"] = cur  # type: ignore[assignment]
            rows.append(r)
        if (i + 1) % 40 == 0:
            print(f"  ... {i + 1}/{len(snaps)} snapshots, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    res = pd.DataFrame(rows)
    res["time"] = pd.to_datetime(res["time"])
    elapsed = time.perf_counter() - start
    pd.set_option("display.width", 160)
    print(f"{len(snaps)} snapshots ({snaps[0].time:%Y-%m-%d} .. {snaps[-1].time:%Y-%m-%d}), {elapsed:.0f} s")
    failures: list[str] = []

    # 1. fit quality
    print("\n== 1. Surface fit (raw SVI per expiry, fitted to mid IV, weights 1/IV-spread) on liquid quotes")
    print("   liquid = OTM, bid>0 & ask>0, (ask-bid)/mid <= 0.5, OI >= 1, t >= 1/365, 0.6 <= K/F <= 1.4")
    table = []
    for cur, g in res.groupby("currency"):
        inside_pooled = float(np.nansum(g["inside"] * g["n_fit"]) / np.nansum(g["n_fit"]))
        table.append({
            "underlying": cur, "days": len(g), "liquid/day": g["n_liquid"].median(),
            "inside_pooled_%": 100 * inside_pooled, "inside_day_median_%": 100 * g["inside"].median(),
            "inside_day_min_%": 100 * g["inside"].min(),
            "rmse_iv_median_vp": 100 * g["rmse_iv"].median(), "rmse_iv_p90_vp": 100 * g["rmse_iv"].quantile(0.9),
            "rmse_coin_median": g["rmse_coin"].median(), "rmse_coin_mean": g["rmse_coin"].mean(),
            "mae_coin_mean": g["mae_coin"].mean(),
            "ssvi_inside_%": 100 * g["ssvi_inside"].median(), "ssvi_rmse_iv_vp": 100 * g["ssvi_rmse_iv"].median(),
        })
        if inside_pooled < THRESHOLDS["inside_share_min"]:
            failures.append(f"{cur}: pooled inside share {inside_pooled:.3f} < {THRESHOLDS['inside_share_min']}")
        if 100 * g["rmse_iv"].median() > THRESHOLDS["rmse_iv_median_max_vol_pts"]:
            failures.append(f"{cur}: median IV RMSE above {THRESHOLDS['rmse_iv_median_max_vol_pts']} vol pts")
    print(pd.DataFrame(table).set_index("underlying").T.to_string(float_format=lambda x: f"{x:.4g}"))

    # 2. arbitrage flags
    print("\n== 2. Static-arbitrage flags (sum over all snapshots; per-day median in brackets)")
    cols = {"q_mark_butterfly": "marks: butterfly", "q_mark_vertical": "marks: vertical spread",
            "q_mark_butterfly_tick": "marks: butterfly > 1/2 tick",
            "q_mark_vertical_tick": "marks: vertical > 1/2 tick",
            "q_mark_calendar": "marks: calendar (total variance)",
            "q_tradable_butterfly": "bid/ask executable: butterfly",
            "q_tradable_vertical": "bid/ask executable: vertical",
            "fit_butterfly_slices": "SVI fit: slices with g(k) < 0",
            "fit_calendar_pairs": "SVI fit: crossing slice pairs (quoted range)"}
    arb = {}
    for cur, g in res.groupby("currency"):
        arb[cur] = {label: f"{int(g[c].sum())} ({g[c].median():g})" for c, label in cols.items()}
    print(pd.DataFrame(arb).to_string())
    slices = {str(k): int(v) for k, v in res.groupby("currency")["n_slices"].sum().items()}
    print(f"   (fitted slices in total: {slices})")

    # 3. variance index vs DVOL
    btc = res[res["currency"] == "BTC"].reset_index(drop=True)
    ref = dvol_reference(btc["time"], load_dvol(market))
    btc = pd.concat([btc, ref], axis=1)
    print("\n== 3. 30-day variance index (Cboe strip on Deribit marks) vs Deribit BTC DVOL, vol points")
    print("   reference 'interp': DVOL linearly interpolated between the daily closes at 00:00 UTC before")
    print("   and after the snapshot; '00:00': the close 9 h before the snapshot (no look-ahead)")
    lines = []
    for label, col in (("full strip (default)", "vix_None"), ("full strip, bid/ask mids", "vix_mid"),
                       ("30d ATM IV (SVI), context", "atm30_svi")):
        scale = 100.0 if col == "atm30_svi" else 1.0
        for refc in ("dvol_interp", "dvol_0000"):
            lines.append({"index": label, "reference": refc, **error_stats(scale * btc[col] - btc[refc])})
    # strike window chosen on the first half of the DVOL days, evaluated on the second half
    have = btc.dropna(subset=["dvol_interp"]).sort_values("time")
    half = len(have) // 2
    first, second = have.iloc[:half], have.iloc[half:]
    score = {w: error_stats(first[f"vix_{w}"] - first["dvol_interp"])["median_abs"] for w in WINDOW_CANDIDATES}
    best = min(score, key=lambda w: score[w])
    lines.append({"index": f"window {best} sd, chosen on 1st half", "reference": "dvol_interp (2nd half)",
                  **error_stats(second[f"vix_{best}"] - second["dvol_interp"])})
    lines.append({"index": "full strip, same 2nd half", "reference": "dvol_interp (2nd half)",
                  **error_stats(second["vix_None"] - second["dvol_interp"])})
    print(pd.DataFrame(lines).to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print("   first-half median |err| by window (sd): "
          + ", ".join(f"{w}: {v:.2f}" for w, v in score.items()))
    med = error_stats(btc["vix_None"] - btc["dvol_interp"])["median_abs"]
    if not med <= THRESHOLDS["dvol_median_abs_vol_pts"]:
        failures.append(f"DVOL median abs error {med:.2f} > {THRESHOLDS['dvol_median_abs_vol_pts']} vol pts")

    print("\nThresholds:", THRESHOLDS)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("All thresholds met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
