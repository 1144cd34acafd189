"""Local exchange simulator speaking the Deribit, Binance and Bybit wire protocols.

* :class:`Market` - the seeded market and its ground truth (candles, trades, funding, option quotes);
* :class:`SimulatorServer` - the aiohttp server (REST + WebSocket) that CCXT talks to;
* :class:`FaultConfig` - faults to inject (rate limits, 5xx, timeouts, malformed bodies, WebSocket drops);
* :class:`ReplayChain` - a recorded Deribit option chain served as the live one.
"""

from cryptoderiv.simulator.errors import SimulatorError
from cryptoderiv.simulator.faults import FaultConfig
from cryptoderiv.simulator.instruments import Instrument
from cryptoderiv.simulator.market import Market, MarketParams
from cryptoderiv.simulator.paths import SpotHestonParams
from cryptoderiv.simulator.replay import ReplayChain
from cryptoderiv.simulator.requestlog import RequestLog, RequestRecord
from cryptoderiv.simulator.server import SimulatorServer

__all__ = [
    "FaultConfig",
    "Instrument",
    "Market",
    "MarketParams",
    "ReplayChain",
    "RequestLog",
    "RequestRecord",
    "SimulatorError",
    "SimulatorServer",
    "SpotHestonParams",
]
