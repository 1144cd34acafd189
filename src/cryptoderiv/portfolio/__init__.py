"""Portfolios: the position model, YAML/CSV import, full revaluation on a market snapshot, and greeks.

Units: sizes signed in coins (or USD notional for inverse futures), prices USD per coin (coin per option for
inverse options), values and P&L in USD, vols decimal, time ACT/365 years.  See ``docs/risk.md``.
"""

from cryptoderiv.portfolio.roll import RolledPortfolio, load_listed, roll_expired

__all__ = ["RolledPortfolio", "load_listed", "roll_expired"]
