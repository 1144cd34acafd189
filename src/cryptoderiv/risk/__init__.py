"""Risk: VaR/ES (historical simulation with full revaluation, filtered HS, Monte Carlo under Heston, parametric
comparison), VaR backtests (Kupiec, Christoffersen, Basel zones), stress tests, expected return per position,
and the daily risk job that fills the tables of migration 040.  See ``docs/risk.md``.
"""
