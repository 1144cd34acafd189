"""cryptoderiv.quality."""
