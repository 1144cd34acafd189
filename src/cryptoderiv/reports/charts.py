"""The report's charts, drawn with matplotlib's Agg renderer into PNG bytes.

Figures are built with :class:`matplotlib.figure.Figure` directly (no ``pyplot``, no global state), so
rendering is thread-safe inside an Airflow worker and needs no display. The PNGs carry no timestamp:
the same data gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 110
PALETTE = ("#1f4e79", "#c0504d", "#9bbb59", "#8064a2", "#f79646", "#4bacc6", "#7f7f7f", "#2c7c3f")


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def var_es_bars(methods: Sequence[str], series: Mapping[str, Sequence[float]], title: str) -> bytes:
    """Grouped bars: one group per VaR method, one bar per series (``"VaR 99%"``, ``"ES 99%"``, ...).

    Parameters
    ----------
    methods : sequence of str
        Group labels.
    series : dict of str to sequence of float
        Bar heights in USD per group (NaN: no bar).
    title : str
        Axes title.
    """
    fig = _figure(7.5, 3.4)
    ax = fig.add_subplot()
    x = np.arange(len(methods), dtype=np.float64)
    width = 0.8 / max(len(series), 1)
    for i, (label, values) in enumerate(series.items()):
        offset = (i - (len(series) - 1) / 2) * width
        ax.bar(x + offset, np.asarray(values, dtype=np.float64), width, label=label, color=PALETTE[i % len(PALETTE)])
    ax.set_xticks(x, list(methods))
    ax.set_ylabel("loss (USD)")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, ncols=min(len(series), 4))
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def stress_heatmap(spot_shocks: npt.NDArray[np.float64], vol_shocks: npt.NDArray[np.float64],
                   pnl: npt.NDArray[np.float64], title: str) -> bytes:
    """Heatmap of portfolio P&L over a spot x vol shock grid.

    Parameters
    ----------
    spot_shocks : numpy.ndarray, shape (n_spot,)
        Relative spot shocks, decimal (-0.5 = -50 %), ascending: the rows.
    vol_shocks : numpy.ndarray, shape (n_vol,)
        Implied-vol shocks in vol points, ascending: the columns.
    pnl : numpy.ndarray, shape (n_spot, n_vol)
        Full-revaluation P&L in USD (NaN: scenario not computed).
    title : str
        Axes title.

    Notes
    -----
    Colours diverge around zero (red losses, green gains); each cell is annotated in thousands of USD.
    """
    from matplotlib.colors import TwoSlopeNorm

    fig = _figure(7.5, 0.9 + 0.32 * len(spot_shocks))
    ax = fig.add_subplot()
    finite = pnl[np.isfinite(pnl)]
    span = float(np.max(np.abs(finite))) if finite.size else 1.0
    span = span if span > 0 else 1.0
    image = ax.imshow(np.ma.masked_invalid(pnl), cmap="RdYlGn", aspect="auto", origin="lower",
                      norm=TwoSlopeNorm(vcenter=0.0, vmin=-span, vmax=span))
    ax.set_xticks(np.arange(len(vol_shocks)), [f"{v:+g}" for v in vol_shocks], fontsize=8)
    ax.set_yticks(np.arange(len(spot_shocks)), [f"{round(100 * s):+d}%" for s in spot_shocks], fontsize=8)
    ax.set_xlabel("implied vol shock (vol points)")
    ax.set_ylabel("spot shock")
    ax.set_title(title, fontsize=10)
    for (i, j), value in np.ndenumerate(pnl):
        if np.isfinite(value):
            ax.text(j, i, f"{value / 1e3:,.0f}k", ha="center", va="center", fontsize=6.5,
                    color="black" if abs(value) < 0.6 * span else "white")
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label("P&L (USD)")
    return _png(fig)


def smiles_and_term_structure(smiles: Sequence[tuple[str, npt.NDArray[np.float64], npt.NDArray[np.float64]]],
                              term_days: npt.NDArray[np.float64], term_atm: npt.NDArray[np.float64],
                              constant_maturity: Sequence[tuple[float, float]], title: str) -> bytes:
    """Two panels: the smile per expiry (IV against log-moneyness) and the ATM term structure.

    Parameters
    ----------
    smiles : sequence of (label, k, iv)
        Per expiry: legend label, log-moneyness ``ln(K/F)`` grid and implied vol (decimal) on it.
    term_days : numpy.ndarray
        Days to expiry (ACT/365 x 365) of the fitted expiries.
    term_atm : numpy.ndarray
        ATM implied vol per expiry, decimal.
    constant_maturity : sequence of (days, iv)
        Constant-maturity ATM points (7/30/60/90 days) from the surface metrics, decimal IV.
    title : str
        Figure title.
    """
    fig = _figure(7.5, 3.2)
    left, right = fig.subplots(1, 2, width_ratios=(1.3, 1.0))
    for i, (label, k, iv) in enumerate(smiles):
        left.plot(k, 100 * iv, color=PALETTE[i % len(PALETTE)], lw=1.4, label=label)
    left.set_xlabel("log-moneyness ln(K/F)")
    left.set_ylabel("implied vol (%)")
    left.set_title("smile per expiry (SVI)", fontsize=9)
    left.grid(alpha=0.3)
    left.legend(fontsize=6.5, ncols=2)
    right.plot(term_days, 100 * term_atm, "o-", color=PALETTE[0], lw=1.4, ms=4, label="ATM per expiry")
    if constant_maturity:
        days, ivs = zip(*constant_maturity, strict=True)
        right.plot(days, 100 * np.asarray(ivs), "s--", color=PALETTE[1], ms=4, lw=1, label="constant maturity")
    right.set_xlabel("days to expiry")
    right.set_ylabel("ATM implied vol (%)")
    right.set_title("ATM term structure", fontsize=9)
    right.grid(alpha=0.3)
    right.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _png(fig)


def forecast_vs_realised(series: Sequence[tuple[str, npt.NDArray[np.datetime64], npt.NDArray[np.float64],
                                                 npt.NDArray[np.float64]]], title: str) -> bytes:
    """Forecast and realised volatility over time, one panel per series.

    Parameters
    ----------
    series : sequence of (label, dates, forecast, realised)
        Per model and underlying: target dates, forecast vol and realised vol (decimal; NaN while the
        horizon has not elapsed).
    title : str
        Figure title.
    """
    n = max(len(series), 1)
    fig = _figure(7.5, 1.0 + 2.0 * n)
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    for ax, (label, dates, forecast, realised) in zip(axes, series, strict=False):
        ax.plot(dates, 100 * forecast, color=PALETTE[0], lw=1.4, label="forecast")
        ax.plot(dates, 100 * realised, color=PALETTE[1], lw=1.2, marker=".", ms=3, label="realised")
        ax.set_ylabel("vol (%)")
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(title, fontsize=10)
    return _png(fig)
