"""cryptoderiv.domain."""
