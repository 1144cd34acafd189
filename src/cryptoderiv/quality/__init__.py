"""Data-quality gates: Great Expectations suites per table, write-audit-publish with quarantine.

- :mod:`~cryptoderiv.quality.gate`: :func:`~cryptoderiv.quality.gate.audit_and_publish`, the one call a
  load makes (validate, record, quarantine, publish, Data Docs, notify);
- :mod:`~cryptoderiv.quality.suites`: the rules of each table's suite, as code (hard or soft, and why);
- :mod:`~cryptoderiv.quality.expectations`: the custom GX expectations (parity, convexity, calendar,
  units, grids, staleness, ...);
- :mod:`~cryptoderiv.quality.conditions`: the vectorised conditions behind them;
- :mod:`~cryptoderiv.quality.policy`: severities and the tuned thresholds;
- :mod:`~cryptoderiv.quality.frames`: the input contract of each suite and the catalog join;
- :mod:`~cryptoderiv.quality.validation`: running a suite on a frame (GX, ephemeral context);
- :mod:`~cryptoderiv.quality.results`: ``dq_results`` and ``quarantine``;
- :mod:`~cryptoderiv.quality.docs`: Data Docs per run, readable offline;
- :mod:`~cryptoderiv.quality.synthetic` and :mod:`~cryptoderiv.quality.defects`: clean batches and the
  defect injectors (shared with the simulator's bad-data mode);
- :mod:`~cryptoderiv.quality.reference_data`: the real Deribit and Binance files as suite input.

Nothing here imports Great Expectations at import time except :mod:`~cryptoderiv.quality.expectations`
(imported lazily by the functions that validate), so DAG files may import the gate at parse time.
"""
