"""cryptoderiv.reports."""
