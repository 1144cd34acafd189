"""Stress tests: spot x vol grid, time decay, funding shocks, and historical scenarios replayed from data.

All by full revaluation (:func:`cryptoderiv.portfolio.valuation.revalue`).  Results are long frames with one
row per scenario and position plus a ``TOTAL`` row per scenario, in the layout of the ``stress_results``
table: ``scenario_kind``, ``scenario``, ``position_id``, ``spot_shock`` (relative, decimal), ``vol_shock_pts``
(vol points), ``days_forward``, ``funding_shock_apr`` (decimal), ``pnl_usd``, ``pnl_coin`` (base coin at the
shocked spot; TOTAL rows in BTC when held).

Historical scenarios are data: a frame with ``date``, ``base``, ``spot_return`` (simple, decimal) and
``vol_change_pts`` per day (see :func:`measure_historical_scenarios`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cryptoderiv.portfolio.valuation import Book, revalue

__all__ = ["HISTORICAL_DATES", "funding_shocks", "historical_stress", "load_historical_scenarios",
           "measure_historical_scenarios", "spot_vol_grid", "time_decay"]

log = logging.getLogger(__name__)

SPOT_SHOCKS = tuple(np.round(np.arange(-0.5, 0.5001, 0.1), 2))
VOL_SHOCKS_PTS = (-30.0, -20.0, -10.0, 0.0, 10.0, 20.0, 30.0, 40.0, 50.0)
DECAY_DAYS = (1.0, 7.0, 30.0)
FUNDING_SHOCKS_APR = (-0.5, -0.2, 0.2, 0.5, 1.0)
FUNDING_DAYS = 7.0
#: Crash days replayed by default: COVID crash, May-2021 crash, Celsius/3AC, FTX.
HISTORICAL_DATES = ("2020-03-12", "2021-05-19", "2022-06-13", "2022-11-09")
COMMITTED_SCENARIOS = Path(__file__).with_name("data") / "historical_scenarios.csv"


def _long(book: Book, pnl: np.ndarray, meta: pd.DataFrame, kind: str) -> pd.DataFrame:
    """(n, p) P&L matrix + per-scenario metadata -> long frame with TOTAL rows."""
    n = pnl.shape[0]
    frames = []
    ref = book.bases.index("BTC") if "BTC" in book.bases else 0
    for i in range(n):
        s_after = np.asarray(meta["_spot_after"].iloc[i], dtype=np.float64)
        rows = pd.DataFrame({"position_id": list(book.ids), "pnl_usd": pnl[i],
                             "pnl_coin": pnl[i] / s_after[book.base_idx]})
        total = pd.DataFrame({"position_id": ["TOTAL"], "pnl_usd": [pnl[i].sum()],
                              "pnl_coin": [pnl[i].sum() / s_after[ref]]})
        block = pd.concat([rows, total], ignore_index=True)
        for col in ("scenario", "spot_shock", "vol_shock_pts", "days_forward", "funding_shock_apr"):
            block[col] = meta[col].iloc[i]
        frames.append(block)
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "scenario_kind", kind)
    return out[["scenario_kind", "scenario", "position_id", "spot_shock", "vol_shock_pts", "days_forward",
                "funding_shock_apr", "pnl_usd", "pnl_coin"]]


def _run(book: Book, mult: np.ndarray, shift_pts: np.ndarray, days: np.ndarray, fund: np.ndarray,
         names: Sequence[str], spot_shock: np.ndarray, vol_pts: np.ndarray, kind: str,
         include_funding: bool = True) -> pd.DataFrame:
    base = revalue(book)[0]
    pnl = revalue(book, mult, shift_pts / 100.0, days / 365.0, fund, include_funding=include_funding) - base
    meta = pd.DataFrame({"scenario": list(names), "spot_shock": spot_shock, "vol_shock_pts": vol_pts,
                         "days_forward": days, "funding_shock_apr": fund,
                         "_spot_after": list(book.spot0[None, :] * mult)})
    return _long(book, pnl, meta, kind)


def spot_vol_grid(book: Book, spot_shocks: Sequence[float] = SPOT_SHOCKS,
                  vol_shocks_pts: Sequence[float] = VOL_SHOCKS_PTS) -> pd.DataFrame:
    """Instantaneous P&L on a grid of relative spot shocks (all bases together) x parallel vol shocks (points).

    Defaults: spot -50 % .. +50 % in 10 % steps, vol -30 .. +50 points (vols floored at 1 point).
    """
    s, v = np.meshgrid(np.asarray(spot_shocks, dtype=float), np.asarray(vol_shocks_pts, dtype=float),
                       indexing="ij")
    s, v = s.ravel(), v.ravel()
    nb = len(book.bases)
    names = [f"spot{100 * a:+.0f}%/vol{b:+.0f}" for a, b in zip(s, v, strict=True)]
    zeros = np.zeros(len(s))
    return _run(book, np.repeat((1.0 + s)[:, None], nb, 1), np.repeat(v[:, None], nb, 1), zeros, zeros, names,
                s, v, "grid", include_funding=False)


def time_decay(book: Book, days: Sequence[float] = DECAY_DAYS) -> pd.DataFrame:
    """P&L of rolling the book ``days`` forward, market unchanged (theta, basis roll-down, funding accrued)."""
    d = np.asarray(days, dtype=float)
    nb = len(book.bases)
    zeros = np.zeros(len(d))
    return _run(book, np.ones((len(d), nb)), np.zeros((len(d), nb)), d, zeros, [f"decay {x:g}d" for x in d],
                zeros, zeros, "time_decay")


def funding_shocks(book: Book, shocks_apr: Sequence[float] = FUNDING_SHOCKS_APR,
                   days: float = FUNDING_DAYS) -> pd.DataFrame:
    """Extra P&L of perpetual funding shifted by ``shocks_apr`` (annualised, decimal) over ``days``.

    The P&L is relative to rolling forward at today's funding, so only the shock's effect remains.
    """
    f = np.asarray(shocks_apr, dtype=float)
    nb = len(book.bases)
    d = np.full(len(f), float(days))
    base_roll = revalue(book, 1.0, 0.0, days / 365.0)[0]
    shocked = revalue(book, np.ones((len(f), nb)), np.zeros((len(f), nb)), d / 365.0, f)
    pnl = shocked - base_roll
    meta = pd.DataFrame({"scenario": [f"funding {100 * x:+.0f}% APR {days:g}d" for x in f], "spot_shock": 0.0,
                         "vol_shock_pts": 0.0, "days_forward": d, "funding_shock_apr": f,
                         "_spot_after": [book.spot0] * len(f)})
    return _long(book, pnl, meta, "funding")


def historical_stress(book: Book, scenarios: pd.DataFrame) -> pd.DataFrame:
    """Replay measured days: each base's spot return and vol change of that day applied to today's book.

    Parameters
    ----------
    book : Book
        The portfolio.
    scenarios : pandas.DataFrame
        Columns ``date``, ``base``, ``spot_return`` (simple, decimal), ``vol_change_pts``.  A base of the book
        missing on a date gets BTC's move of that date (labelled in the log).

    Returns
    -------
    pandas.DataFrame
        Stress rows (``scenario`` = the date; ``spot_shock``/``vol_shock_pts`` of the first base of the book).
    """
    frames = []
    for date, day in scenarios.groupby("date", sort=True):
        by_base = day.set_index("base")
        moves, vols = [], []
        for b in book.bases:
            src = b if b in by_base.index else "BTC"
            if src not in by_base.index:
                log.warning("historical scenario %s has neither %s nor BTC; skipped", date, b)
                break
            if src != b:
                log.info("historical scenario %s: %s missing, BTC's move used", date, b)
            moves.append(float(by_base.at[src, "spot_return"]))  # type: ignore[arg-type]
            vc = float(by_base.at[src, "vol_change_pts"])  # type: ignore[arg-type]
            vols.append(vc if np.isfinite(vc) else 0.0)
        else:
            mult = 1.0 + np.array([moves])
            vp = np.array([vols])
            frames.append(_run(book, mult, vp, np.array([1.0]), np.array([0.0]), [str(date)],
                               np.array([moves[0]]), np.array([vols[0]]), "historical"))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def measure_historical_scenarios(ohlcv_dir: Path, dvol_csv: Path | None = None,
                                 dates: Sequence[str] = HISTORICAL_DATES) -> pd.DataFrame:
    """Measure the scenario days from the Binance daily candles (and BTC DVOL where it covers the day).

    Parameters
    ----------
    ohlcv_dir : Path
        Folder with ``BTCUSDT_1d.csv`` and ``ETHUSDT_1d.csv`` (``timestamp`` = UTC day, ``close`` USDT).
    dvol_csv : Path, optional
        Deribit BTC DVOL daily closes (``date``, ``dvol`` in vol points).
    dates : sequence of str
        UTC days.

    Returns
    -------
    pandas.DataFrame
        ``date``, ``base``, ``close_prev``, ``close``, ``spot_return`` (close/close_prev - 1),
        ``vol_change_pts`` and ``vol_source``: ``dvol`` (BTC DVOL change of the day, also used for ETH), else
        ``dvol_beta_proxy`` (before DVOL existed: BTC's return times the slope of daily DVOL changes on BTC
        returns fitted over the whole DVOL history - a measured proxy, labelled).
    """
    dvol = None
    if dvol_csv is not None and Path(dvol_csv).is_file():
        dvol = pd.read_csv(dvol_csv, parse_dates=["date"]).set_index("date")["dvol"].sort_index()
    closes = {b: pd.read_csv(Path(ohlcv_dir) / f"{b}USDT_1d.csv", parse_dates=["timestamp"]).set_index(
        "timestamp")["close"].sort_index() for b in ("BTC", "ETH")}
    beta = np.nan
    if dvol is not None:
        # Same-day DVOL change (points) regressed on BTC's simple return, over consecutive DVOL days.
        joined = pd.concat({"dv": dvol.diff(), "gap": dvol.index.to_series().diff().dt.days,
                            "r": closes["BTC"].pct_change()}, axis=1, sort=True).dropna()
        joined = joined[joined["gap"] == 1]
        beta = float(np.polyfit(joined["r"], joined["dv"], 1)[0])
    rows = []
    for base, c in closes.items():
        for d in dates:
            day = pd.Timestamp(d)
            prev = c.index[c.index < day].max()
            ret = float(c.loc[day] / c.loc[prev] - 1.0)
            change, source = np.nan, "none"
            if dvol is not None and day in dvol.index and prev in dvol.index:
                change, source = float(dvol.loc[day] - dvol.loc[prev]), "dvol"
            elif np.isfinite(beta):
                btc = closes["BTC"]
                btc_ret = float(btc.loc[day] / btc.loc[btc.index[btc.index < day].max()] - 1.0)
                change, source = beta * btc_ret, f"dvol_beta_proxy({beta:.1f} pts per 1.00 BTC return)"
            rows.append({"date": day.date().isoformat(), "base": base, "close_prev": float(c.loc[prev]),
                         "close": float(c.loc[day]), "spot_return": ret,
                         "vol_change_pts": round(change, 6), "vol_source": source})
    return pd.DataFrame(rows)


def load_historical_scenarios(market_dir: Path | None) -> pd.DataFrame:
    """The historical scenarios: measured from ``market_dir`` (../shared/data/market) when it exists,
    otherwise the committed table generated from the same data (``scripts/generate_risk_scenarios.py``)."""
    if market_dir is not None and (Path(market_dir) / "binance_ohlcv_btc_eth").is_dir():
        dvol = Path(market_dir) / "perp_funding_basis_dvol" / "dvol_btc_daily_isayggyo_nolicense" / "dvol_btc.csv"
        return measure_historical_scenarios(Path(market_dir) / "binance_ohlcv_btc_eth", dvol)
    return pd.read_csv(COMMITTED_SCENARIOS)
