"""What the scheduled pipelines collect: venues, symbols and underlyings (CCXT unified symbols).

One place, read by the DAGs at parse time (plain constants: no I/O). Catalog syncs still bring in
every listing of a venue; this is the subset whose market data is collected on a schedule.
"""

from __future__ import annotations

UNDERLYINGS = ("BTC", "ETH")

CANDLE_SYMBOLS: dict[str, tuple[str, ...]] = {
    "binance": ("BTC/USDT", "ETH/USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"),
    "bybit": ("BTC/USDT", "ETH/USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"),
    "deribit": ("BTC/USD:BTC", "ETH/USD:ETH"),
}
PERPETUALS: dict[str, tuple[str, ...]] = {
    "binance": ("BTC/USDT:USDT", "ETH/USDT:USDT"),
    "bybit": ("BTC/USDT:USDT", "ETH/USDT:USDT"),
    "deribit": ("BTC/USD:BTC", "ETH/USD:ETH"),
}
# Binance and Bybit publish open-interest history; Deribit only the current figure (snapshotted).
OPEN_INTEREST_HISTORY: dict[str, bool] = {"binance": True, "bybit": True, "deribit": False}
FUTURES_VENUES = ("binance", "bybit", "deribit")   # perpetual (and dated) futures quotes
OPTION_VENUES = ("deribit", "bybit")
VENUES = ("binance", "bybit", "deribit")
# The catalog sync covers what the pipelines collect: every kind each venue lists.
CATALOG_KINDS: dict[str, tuple[str, ...]] = {
    "binance": ("spot", "perpetual", "future"),
    "bybit": ("spot", "perpetual", "option"),
    "deribit": ("spot", "perpetual", "future", "option"),
}


def venue_pool(venue: str) -> str:
    """The Airflow pool that limits concurrent requests to a venue."""
    return f"venue_{venue}"
