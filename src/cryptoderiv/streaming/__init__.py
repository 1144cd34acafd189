"""The live-tick streaming sidecar (``cryptoderiv stream run``; entry point ``streaming/``).

ccxt.pro subscriptions (tickers, best bid/ask, trades, Deribit option tickers) with reconnects and REST
backfill of trade gaps; batched, spooled, idempotent writes to ``ticks`` and ``trades``; a WebSocket fan-out
for the dashboard; ``/health`` and Prometheus ``/metrics``; live alerts. See ``docs/streaming.md``.
"""

from cryptoderiv.streaming.demo import DEFAULT_CONFIG, demo_stream
from cryptoderiv.streaming.service import Sidecar, SidecarSummary, run_sidecar
from cryptoderiv.streaming.subscriptions import StreamConfig, load_config, parse_config

__all__ = [
    "DEFAULT_CONFIG",
    "Sidecar",
    "SidecarSummary",
    "StreamConfig",
    "demo_stream",
    "load_config",
    "parse_config",
    "run_sidecar",
]
