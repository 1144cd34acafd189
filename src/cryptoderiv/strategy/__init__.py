"""cryptoderiv.strategy."""
