"""cryptoderiv.streaming."""
