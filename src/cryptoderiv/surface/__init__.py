"""Implied-volatility surfaces: per-expiry SVI fits, arbitrage checks, interpolation across expiries.

Modules:

* :mod:`~cryptoderiv.surface.chain` - :class:`OptionChain` (columnar quotes, Deribit adapter) and the
  :class:`LiquidityFilter`.
* :mod:`~cryptoderiv.surface.svi` - raw SVI parameters, Gatheral's ``g(k)``, quasi-explicit fit.
* :mod:`~cryptoderiv.surface.ssvi` - power-law SSVI (Gatheral & Jacquier 2014), arbitrage-free by construction.
* :mod:`~cryptoderiv.surface.vol_surface` - :class:`VolSurface` (IV by strike, log-moneyness or delta) and
  :func:`fit_surface`.
* :mod:`~cryptoderiv.surface.arbitrage` - butterfly, vertical and calendar flags in quotes and fits.
* :mod:`~cryptoderiv.surface.fit_quality` - inside-the-spread share and IV / premium errors of a fit.

Methodology: ``docs/metrics.md``.
"""
