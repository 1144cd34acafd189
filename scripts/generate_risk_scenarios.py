"""Regenerate the committed historical stress scenarios from the real data in ../shared/data.

Measures the crash days (cryptoderiv.risk.stress.HISTORICAL_DATES) from the Binance BTC/ETH daily candles
and the Deribit BTC DVOL daily closes, and writes src/cryptoderiv/risk/data/historical_scenarios.csv (a few
measured numbers per day: the fallback the risk DAG uses where ../shared/data is absent).

    .venv/bin/python scripts/generate_risk_scenarios.py
"""

from __future__ import annotations

import sys

from cryptoderiv.config import get_settings
from cryptoderiv.risk.stress import COMMITTED_SCENARIOS, load_historical_scenarios


def main() -> int:
    market = get_settings().shared_market_dir
    if not (market / "binance_ohlcv_btc_eth").is_dir():
        print(f"real market data not found under {market}", file=sys.stderr)
        return 1
    table = load_historical_scenarios(market)
    COMMITTED_SCENARIOS.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(COMMITTED_SCENARIOS, index=False)
    print(table.to_string(index=False))
    print(f"wrote {COMMITTED_SCENARIOS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
