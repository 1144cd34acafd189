"""Errors of the exchange simulator."""

from __future__ import annotations

from cryptoderiv.errors import CryptoderivError


class SimulatorError(CryptoderivError):
    """The simulator cannot start or was given an invalid setting (fault spec, replay file, port)."""
