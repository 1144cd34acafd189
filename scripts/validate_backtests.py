"""Run the three backtest strategies on real BTC/ETH history from ``../shared/data`` and print their metrics.

Run from the project root (``make validate`` runs it; a few seconds)::

    .venv/bin/python scripts/validate_backtests.py [--market-dir PATH]

Data and the proxies it forces (stated, not hidden):

* **Prices**: Binance spot BTCUSDT / ETHUSDT candles (``binance_ohlcv_btc_eth``, 4h and 1d, candle-open UTC;
  the last, partial bar is dropped). The perpetual is marked at the spot close (no perp prices in the data:
  zero basis assumed); the close of the candle opening at ``t`` is observed at ``t + bar``.
* **Funding**: Binance BTC/ETH perpetual funding 2020-2023 (``funding_multiexchange_supervik_MIT``, decimal per
  8 h; its timestamps are UTC+3, shifted back 3 h here), and for the straddle the daily mean Binance BTC
  funding 2019-2026 (``funding_daily_mean_lukmol_MIT``; three 8 h payments per day = 3 x the mean).
* **Implied vol**: Deribit BTC DVOL daily close (``dvol_btc_daily_isayggyo_nolicense``, percent; missing days
  forward-filled, counted below). DVOL is a 30-day index; it stands in for the 7-day ATM vol.

Strategies:

1. **Trend**: SMA 42/180 on 4h closes (7 / 30 days), long/short, on the perpetual with funding, fee 4 bp,
   slippage 1 bp, 2020-01-01 .. 2023-12-31.
2. **Funding carry**: long spot / short perp (half the capital), on when the mean of the last 3 funding
   rates is positive; spot fee 10 bp, perp fee 4 bp, 1 bp slippage each; same window.
3. **Delta-hedged short straddle**: BTC, weekly ATM straddle on 1 coin per 1 coin of capital, inverse
   (Deribit, settled in BTC against the daily close), option fee 3 bp of the underlying (cap 12.5 % of
   premium), hedged daily with the perpetual (fee 4 bp) paying the daily funding, 2021-03-24 .. 2026-01-05.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from cryptoderiv.strategy.carry import funding_carry_signal, run_carry
from cryptoderiv.strategy.engine import CostModel, align_funding
from cryptoderiv.strategy.metrics import PerformanceMetrics, result_metrics
from cryptoderiv.strategy.straddle import run_short_straddle
from cryptoderiv.strategy.trend import run_sma_crossover

DEFAULT_MARKET = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "market"
START, END = pd.Timestamp("2020-01-01", tz="UTC"), pd.Timestamp("2024-01-01", tz="UTC")


def load_candles(market: Path, pair: str, timeframe: str) -> pd.DataFrame:
    df = pd.read_csv(market / "binance_ohlcv_btc_eth" / f"{pair}_{timeframe}.csv")
    df["ts"] = pd.to_datetime(df["timestamp"], utc=True)
    df = df.iloc[:-1]  # the last bar is partial
    step = pd.Timedelta(timeframe.replace("d", "D"))
    df["observed"] = df["ts"] + step  # a close is known at the end of its candle
    return df


def load_funding(market: Path, coin: str) -> pd.DataFrame:
    folder = market / "perp_funding_basis_dvol" / "funding_multiexchange_supervik_MIT" / f"{coin}-USDT"
    df = pd.read_csv(folder / f"{coin}-USDT_binance_2020-01-01_2024-01-01_funding_history.csv")
    df["ts"] = pd.to_datetime(df["Date"]).dt.tz_localize("UTC") - pd.Timedelta(hours=3)  # file is UTC+3
    return df.rename(columns={"Funding Rate": "rate"})[["ts", "rate"]]


def fmt(name: str, m: PerformanceMetrics) -> str:
    return (f"{name:38s} {m.total_return:9.1%} {m.cagr:8.1%} {m.volatility:7.1%} {m.sharpe:7.2f} "
            f"{m.sortino:8.2f} {m.max_drawdown:7.1%} {m.calmar:7.2f} {m.turnover:9.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market-dir", type=Path, default=DEFAULT_MARKET)
    args = parser.parse_args()
    market: Path = args.market_dir
    if not (market / "binance_ohlcv_btc_eth").is_dir():
        print(f"market data not found under {market}", file=sys.stderr)
        return 2
    header = (f"{'strategy':38s} {'total':>9s} {'CAGR':>8s} {'vol':>7s} {'Sharpe':>7s} {'Sortino':>8s} "
              f"{'maxDD':>7s} {'Calmar':>7s} {'turnover':>9s}")
    print("annualised on 365 days; turnover = traded notional per year / mean equity")
    print(header)
    print("-" * len(header))
    for coin in ("BTC", "ETH"):
        c = load_candles(market, f"{coin}USDT", "4h")
        c = c[(c["observed"] > START) & (c["observed"] <= END)].reset_index(drop=True)
        ts = c["observed"].to_numpy(dtype="datetime64[ns]")
        close = c["close"].to_numpy()
        f = load_funding(market, coin)
        funding = align_funding(ts, f["ts"].to_numpy(dtype="datetime64[ns]"), f["rate"].to_numpy())
        trend = run_sma_crossover(ts, close, 42, 180, costs=CostModel(fee=0.0004, slippage=0.0001),
                                  funding=funding, allow_short=True, initial_equity=10_000.0)
        print(fmt(f"{coin} trend SMA 42/180 4h, long/short", result_metrics(trend)))
        print(f"{'':38s} funding {trend.funding_pnl.sum():+,.0f} USD, fees {trend.fee.sum():,.0f}, "
              f"{int((np.diff(trend.units) != 0).sum())} trades")
        active = funding_carry_signal(funding, lookback=3)
        spot_leg, perp_leg = run_carry(ts, close, close, active, funding=funding,
                                       spot_costs=CostModel(fee=0.001, slippage=0.0001),
                                       hedge_costs=CostModel(fee=0.0004, slippage=0.0001),
                                       notional_fraction=0.5, initial_equity=10_000.0)
        carry = spot_leg + perp_leg
        print(fmt(f"{coin} funding carry (spot/perp)", result_metrics(carry)))
        print(f"{'':38s} funding {carry.funding_pnl.sum():+,.0f} USD, fees {carry.fee.sum():,.0f}, "
              f"on {active.mean():.0%} of bars")

    d = load_candles(market, "BTCUSDT", "1d")
    dvol = pd.read_csv(market / "perp_funding_basis_dvol" / "dvol_btc_daily_isayggyo_nolicense" / "dvol_btc.csv")
    dvol["date"] = pd.to_datetime(dvol["date"], utc=True)
    fd = pd.read_csv(market / "perp_funding_basis_dvol" / "funding_daily_mean_lukmol_MIT" / "funding_rates.csv")
    fd["date"] = pd.to_datetime(fd["date"], utc=True)
    # the close of day D is observed at D+1 00:00; DVOL's daily close and day D's funding belong to it too
    frame = d[["ts", "observed", "close"]].merge(dvol, left_on="ts", right_on="date", how="left")
    frame = frame.merge(fd[["date", "funding_mean"]], left_on="ts", right_on="date", how="left")
    frame = frame[frame["ts"] >= dvol["date"].min()].reset_index(drop=True)
    missing = int(frame["dvol"].isna().sum())
    frame["dvol"] = frame["dvol"].ffill()
    ts_d = frame["observed"].to_numpy(dtype="datetime64[ns]")
    daily_funding = 3.0 * frame["funding_mean"].fillna(0.0).to_numpy()
    daily_funding[0] = 0.0
    straddle = run_short_straddle(ts_d, frame["close"].to_numpy(), frame["dvol"].to_numpy() / 100.0,
                                  tenor=np.timedelta64(7, "D"), settlement="inverse", size_fraction=1.0,
                                  hedge_every=1, option_fee=0.0003, hedge_costs=CostModel(fee=0.0004),
                                  funding=daily_funding, initial_equity=float(frame["close"].iloc[0]))
    print(fmt("BTC short straddle 7d, inverse, hedged", result_metrics(straddle.total)))
    settled = straddle.settlements[straddle.settlements > 0]
    print(f"{'':38s} {settled.size} expiries settled in coin (mean {settled.mean():.4f} BTC per cycle); "
          f"DVOL days forward-filled: {missing}; hedge funding {straddle.hedge.funding_pnl.sum():+,.0f} USD")
    print(f"{'':38s} window {frame['ts'].iloc[0].date()} .. {frame['ts'].iloc[-1].date()}, "
          f"capital = 1 BTC at the start ({frame['close'].iloc[0]:,.0f} USD)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
