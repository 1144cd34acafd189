"""Option pricing kernels: Black-Scholes, Black-76, implied volatility, Heston, inverse conventions.

Units throughout: time in ACT/365 years, volatility as an annual decimal, rates continuously compounded.
"""
