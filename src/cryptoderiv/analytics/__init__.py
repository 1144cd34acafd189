"""Derivatives market metrics: ATM term structure, skew, variance index, realised vol, funding, basis.

Modules (one topic each; methodology in ``docs/metrics.md``):

* :mod:`~cryptoderiv.analytics.term_structure` - forward-ATM IV per expiry, constant-maturity ATM IV.
* :mod:`~cryptoderiv.analytics.skew` - 25-delta risk reversal, butterfly, normalised skew.
* :mod:`~cryptoderiv.analytics.variance_index` - 30-day model-free variance index (Cboe VIX / Deribit DVOL).
* :mod:`~cryptoderiv.analytics.realized_vol` - close-to-close, Parkinson, Garman-Klass, Rogers-Satchell,
  Yang-Zhang, vol cones.
* :mod:`~cryptoderiv.analytics.vol_rank` - IV rank and percentile.
* :mod:`~cryptoderiv.analytics.variance_premium` - implied minus realised.
* :mod:`~cryptoderiv.analytics.positioning` - put/call ratios, OI by strike, max pain, dealer gamma exposure.
* :mod:`~cryptoderiv.analytics.carry` - funding APR/APY, futures basis, constant-maturity basis.
"""
