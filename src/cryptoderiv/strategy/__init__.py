"""Vectorised backtesting: the engine (fees, slippage, perpetual funding, futures roll), option expiry
settlement, strategies (SMA trend, funding/basis carry, delta-hedged short straddle) and metrics annualised on
365 days. See ``docs/backtesting.md``.
"""
