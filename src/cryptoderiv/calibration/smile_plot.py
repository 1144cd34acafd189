"""Smile-fit figures: per expiry, market bid/ask/mid implied volatilities against the calibrated Heston smile.

matplotlib is imported lazily with the non-interactive Agg backend (no display on servers and workers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cryptoderiv.calibration.fit import smile_curve
from cryptoderiv.pricing.heston import HestonParams


def expiry_label(expiry: pd.Timestamp) -> str:
    """File-name-safe expiry label, e.g. ``2026-12-25T0800Z``."""
    return pd.Timestamp(expiry).tz_convert("UTC").strftime("%Y-%m-%dT%H%MZ")


def plot_smiles(quotes: pd.DataFrame, params: HestonParams, out_dir: Path, title: str) -> list[Path]:
    """Write one PNG per expiry of the fitted quotes.

    Parameters
    ----------
    quotes : pandas.DataFrame
        :attr:`cryptoderiv.calibration.fit.SnapshotFit.quotes` (IVs as decimals).
    params : HestonParams
        Calibrated parameters.
    out_dir : pathlib.Path
        Folder for ``smile_<expiry>.png`` (created).
    title : str
        Figure title prefix (venue, underlying, snapshot).

    Returns
    -------
    list of pathlib.Path
        The files written, in expiry order.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for expiry, group in quotes.groupby("expiry", sort=True):
        k = np.log(group["strike"].to_numpy() / group["forward"].to_numpy())
        t = float(group["t"].iloc[0])
        fwd = float(group["forward"].iloc[0])
        pad = max(0.05, 0.1 * float(np.ptp(k)))
        grid = np.linspace(float(k.min()) - pad, float(k.max()) + pad, 60)
        model = smile_curve(params, fwd, t, grid)
        rmse = float(np.sqrt(np.nanmean((group["model_iv"] - group["market_iv"]) ** 2)))
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=90)
        mid = group["market_iv"].to_numpy() * 100
        lo = np.clip(mid - group["bid_iv"].to_numpy() * 100, 0, None)
        hi = np.clip(group["ask_iv"].to_numpy() * 100 - mid, 0, None)
        ax.errorbar(k, mid, yerr=np.nan_to_num(np.vstack([lo, hi])), fmt="o", ms=3, color="tab:blue",
                    ecolor="tab:gray", elinewidth=1, capsize=2, label="market mid (bar: bid-ask IV)")
        ax.plot(grid, model * 100, color="tab:red", lw=1.5, label="Heston")
        ax.set_xlabel("log-moneyness ln(K/F)")
        ax.set_ylabel("implied volatility (%)")
        label = expiry_label(pd.Timestamp(str(expiry)))
        ax.set_title(f"{title}  expiry {label}  T={t * 365:.1f}d  RMSE {rmse * 100:.2f} vol pts", fontsize=8)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = out_dir / f"smile_{label}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths
