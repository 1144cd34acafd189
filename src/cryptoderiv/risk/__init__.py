"""cryptoderiv.risk."""
