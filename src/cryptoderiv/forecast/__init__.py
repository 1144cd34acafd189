"""cryptoderiv.forecast."""
