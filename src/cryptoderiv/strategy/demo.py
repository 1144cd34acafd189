"""The backtest and optimisation step of ``make demo``: three strategies and four optimisers on stored data.

:func:`demo_backtests` reads the 1m candles, funding rates and the latest ATM implied vol from the platform
database, runs the SMA crossover (on a perpetual, funding applied), the funding carry (spot vs perpetual)
and the delta-hedged short straddle, then optimises over the demo portfolio's underlyings (mean-variance,
minimum CVaR, risk parity, HRP) and returns printable summaries. :func:`demo_from_frames` is the same on
frames, without a database.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg

from cryptoderiv.allocation import (
    WeightConstraints,
    efficient_frontier,
    hrp_weights,
    mean_variance,
    min_cvar,
    risk_parity,
)
from cryptoderiv.strategy.carry import run_carry
from cryptoderiv.strategy.engine import BacktestInputError, CostModel, align_funding
from cryptoderiv.strategy.metrics import result_metrics
from cryptoderiv.strategy.straddle import run_short_straddle
from cryptoderiv.strategy.trend import run_sma_crossover

__all__ = ["StrategyDemo", "demo_backtests", "demo_from_frames"]

logger = logging.getLogger(__name__)

_CANDLES_SQL = """
SELECT i.exchange, i.symbol, i.kind, i.base, o.ts, o.close
FROM ohlcv o JOIN instruments i USING (instrument_id)
WHERE o.timeframe = '1m' AND i.kind IN ('spot', 'perpetual') AND i.is_inverse = false
ORDER BY i.exchange, i.symbol, o.ts
"""
_FUNDING_SQL = """
SELECT i.exchange, i.symbol, f.ts, f.rate
FROM funding_rates f JOIN instruments i USING (instrument_id)
ORDER BY f.ts
"""
_ATM_IV_SQL = """
SELECT base, atm_iv FROM vol_surfaces WHERE atm_iv IS NOT NULL ORDER BY ts DESC, time_to_expiry ASC
"""
_BASES_SQL = """
SELECT DISTINCT base FROM positions WHERE portfolio = %s
"""


@dataclass(frozen=True)
class StrategyDemo:
    """Metrics per strategy and weights per optimiser (decimals; annualised on 365 days)."""

    strategies: pd.DataFrame
    allocation: pd.DataFrame
    frontier: pd.DataFrame
    notes: tuple[str, ...]

    def to_text(self) -> str:
        """Printable summary."""
        parts = ["backtests (1m bars, annualised on 365 days):",
                 self.strategies.to_string(float_format=lambda v: f"{v:.4g}"),
                 "", "optimal weights over the portfolio's underlyings (1m scenario returns):",
                 self.allocation.to_string(float_format=lambda v: f"{v:.3f}"),
                 "", "efficient frontier (long-only, per 1m bar):",
                 self.frontier.to_string(float_format=lambda v: f"{v:.3g}")]
        parts.extend(f"note: {n}" for n in self.notes)
        return "\n".join(parts)


def _series(candles: pd.DataFrame, exchange: str, symbol: str) -> pd.Series:
    rows = candles[(candles["exchange"] == exchange) & (candles["symbol"] == symbol)]
    return pd.Series(rows["close"].to_numpy(dtype=float),
                     index=pd.DatetimeIndex(rows["ts"]).tz_convert("UTC") + pd.Timedelta(minutes=1))


def demo_from_frames(candles: pd.DataFrame, funding: pd.DataFrame, atm_iv: dict[str, float] | None = None,
                     bases: list[str] | None = None) -> StrategyDemo:
    """Run the demo on frames.

    Parameters
    ----------
    candles : pandas.DataFrame
        1m candles with columns ``exchange, symbol, kind, base, ts`` (open time, UTC), ``close`` (USD).
    funding : pandas.DataFrame
        Columns ``exchange, symbol, ts`` (UTC), ``rate`` (decimal per interval).
    atm_iv : dict, optional
        ATM implied vol per base coin (decimal); default: the realised vol of the candles.
    bases : list of str, optional
        Underlyings of the demo portfolio (default: every base with candles).
    """
    notes: list[str] = []
    rows: dict[str, dict[str, float]] = {}
    perps = candles[candles["kind"] == "perpetual"][["exchange", "symbol", "base"]].drop_duplicates()
    if perps.empty:
        raise BacktestInputError("no perpetual 1m candles to backtest (run the candle ingestion first)")
    exchange, symbol, base = perps.iloc[0]
    perp = _series(candles, exchange, symbol)
    ts = perp.index.to_numpy(dtype="datetime64[ns]")
    fund_rows = funding[(funding["exchange"] == exchange) & (funding["symbol"] == symbol)]
    rate = align_funding(ts, pd.DatetimeIndex(fund_rows["ts"]).tz_convert("UTC").to_numpy(dtype="datetime64[ns]"),
                         fund_rows["rate"].to_numpy(dtype=float))
    close = perp.to_numpy()
    trend = run_sma_crossover(ts, close, 5, 20, costs=CostModel(fee=0.0004), funding=rate, allow_short=True)
    rows[f"trend SMA 5/20 {exchange} {symbol}"] = result_metrics(trend).as_dict()

    spot_rows = candles[(candles["kind"] == "spot") & (candles["base"] == base)]
    if spot_rows.empty:
        notes.append(f"no {base} spot candles: carry uses the perpetual as its own spot (zero basis)")
        spot = perp
    else:
        spot = _series(candles, spot_rows["exchange"].iloc[0], spot_rows["symbol"].iloc[0])
    spot = spot.reindex(perp.index).ffill().bfill()
    active = np.ones(close.shape[0], dtype=bool)  # a two-hour demo window: hold the pair throughout
    s_leg, p_leg = run_carry(ts, spot.to_numpy(), close, active, funding=rate,
                             spot_costs=CostModel(fee=0.001), hedge_costs=CostModel(fee=0.0004))
    carry = s_leg + p_leg
    rows[f"carry {base} spot / {exchange} perp"] = result_metrics(carry).as_dict()
    rows[f"carry {base} spot / {exchange} perp"]["funding_usd"] = float(carry.funding_pnl.sum())

    log_ret = np.diff(np.log(close))
    realised = float(np.std(log_ret, ddof=1) * math.sqrt(365 * 24 * 60))
    iv = (atm_iv or {}).get(str(base))
    if iv is None:
        notes.append(f"no stored ATM IV for {base}: straddle marked at the realised vol {realised:.1%}")
        iv = realised
    straddle = run_short_straddle(ts, close, np.full(close.shape[0], iv), tenor=np.timedelta64(30, "m"),
                                  settlement="inverse", hedge_every=5, hedge_costs=CostModel(fee=0.0004),
                                  funding=rate)
    rows[f"short straddle 30m inverse {base}"] = result_metrics(straddle.total).as_dict()
    strategies = pd.DataFrame(rows).T[["total_return", "sharpe", "sortino", "max_drawdown", "calmar",
                                       "turnover"]]

    universe = candles[["exchange", "symbol", "base"]].drop_duplicates()
    if bases:
        universe = universe[universe["base"].isin(bases)]
    closes = pd.DataFrame({f"{e} {s}": _series(candles, e, s) for e, s, _ in universe.itertuples(index=False)})
    scen = closes.sort_index().ffill().pct_change().dropna()
    names = list(scen.columns)
    r = scen.to_numpy()
    mu = r.mean(axis=0)
    cov = np.cov(r, rowvar=False) + 1e-12 * np.eye(len(names))
    long_short = WeightConstraints(budget=1.0, lower=-0.5, upper=1.0)
    alloc = pd.DataFrame({
        "mean-variance (long/short)": mean_variance(mu, cov, risk_aversion=1.0 / float(np.mean(np.diag(cov))),
                                                    constraints=long_short),
        "min CVaR 95% (long-only)": min_cvar(r, 0.95).weights,
        "risk parity (ERC)": risk_parity(cov),
        "HRP": hrp_weights(cov),
    }, index=names).T
    frontier = efficient_frontier(mu, cov, WeightConstraints(), n_points=5, asset_names=names,
                                  scenario_returns=r)[["expected_return", "volatility", "cvar", *names]]
    notes.append("expected returns = mean of the 1m scenario returns (stand-in for the forecasts)")
    return StrategyDemo(strategies=strategies, allocation=alloc, frontier=frontier, notes=tuple(notes))


def demo_backtests(conn: psycopg.Connection, portfolio: str = "sample") -> StrategyDemo:
    """Run :func:`demo_from_frames` on the database's 1m candles, funding and latest ATM IVs.

    The optimisation universe is the spot/perpetual candles of the bases held in ``positions`` for
    ``portfolio`` (every base when that table is absent or empty).
    """
    with conn.cursor() as cur:
        cur.execute(_CANDLES_SQL)
        candles = pd.DataFrame(cur.fetchall(), columns=["exchange", "symbol", "kind", "base", "ts", "close"])
        cur.execute(_FUNDING_SQL)
        funding = pd.DataFrame(cur.fetchall(), columns=["exchange", "symbol", "ts", "rate"])
        cur.execute(_ATM_IV_SQL)
        atm: dict[str, float] = {}
        for base, iv in cur.fetchall():
            atm.setdefault(str(base), float(iv))
        cur.execute("SELECT to_regclass('positions') IS NOT NULL")
        row = cur.fetchone()
        bases: list[str] | None = None
        if row and row[0]:
            cur.execute(_BASES_SQL, (portfolio,))
            bases = [str(b) for (b,) in cur.fetchall()] or None
    logger.info("demo backtests on %d candles, %d funding rows", len(candles), len(funding))
    return demo_from_frames(candles, funding, atm, bases)
