"""Helpers shared by the exchange-layer integration tests."""

from __future__ import annotations

from typing import Any

from cryptoderiv.exchanges import make_client
from cryptoderiv.simulator import SimulatorServer


def plain_ccxt(venue: str, sim: SimulatorServer, flavour: str = "sync") -> Any:
    """The unmodified ccxt class of a venue, URLs pointed at the simulator (no response checks)."""
    return make_client(venue, "simulator", simulator_url=sim.url, flavour=flavour, check_responses=False)
