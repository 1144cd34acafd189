"""Backtest the VaR models on the real BTC/ETH daily history (Binance spot, ../shared/data).

For each asset, model (hs, fhs, parametric) and level (95 %, 99 %): one-day VaR of one coin forecast every day
from the previous 500 days, exceptions, Kupiec's POF test, Christoffersen's independence and conditional
coverage, and the Basel zone on the last 250 days (99 %).

    .venv/bin/python scripts/validate_var_backtest.py [--window 500]
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from cryptoderiv.config import get_settings
from cryptoderiv.risk.market_data import read_binance_daily_returns
from cryptoderiv.risk.model_backtest import backtest_models


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=500)
    args = parser.parse_args()
    folder = get_settings().shared_market_dir / "binance_ohlcv_btc_eth"
    if not folder.is_dir():
        print(f"real market data not found at {folder}", file=sys.stderr)
        return 1
    returns = read_binance_daily_returns(folder)
    tables = []
    for asset in returns.columns:
        table = backtest_models(returns[asset], window=args.window)
        table.insert(0, "asset", f"{asset}USDT")
        tables.append(table)
    out = pd.concat(tables, ignore_index=True)
    cols = ["asset", "method", "level", "window_start", "as_of", "observations", "exceptions", "kupiec_lr",
            "kupiec_p", "christoffersen_ind", "christoffersen_cc", "christoffersen_cc_p", "basel_zone",
            "basel_multiplier"]
    out["expected"] = (out["observations"] * (1 - out["level"])).round(1)
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.float_format", "{:.4g}".format):
        print(out[[*cols[:7], "expected", *cols[7:]]].to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
