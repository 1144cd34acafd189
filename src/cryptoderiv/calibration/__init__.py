"""Heston calibration as a tracked model: liquid-quote selection, warm-started calibration per venue,
underlying and chain snapshot, fit metrics and acceptance rules, MLflow runs, and the ``model_runs`` /
``heston_params`` history (see ``docs/heston-calibration.md``).

Entry point: :func:`run_calibrations`. The numerics are :mod:`cryptoderiv.pricing.heston` and
:mod:`cryptoderiv.pricing.heston_calibration`.
"""

from cryptoderiv.calibration.config import CalibrationConfig
from cryptoderiv.calibration.fit import SnapshotFit, fit_snapshot
from cryptoderiv.calibration.runner import CalibrationOutcome, run_calibrations, window_from_event_extras
from cryptoderiv.calibration.snapshots import ChainSnapshot, QuoteSelection, group_snapshots, select_quotes

__all__ = [
    "CalibrationConfig",
    "CalibrationOutcome",
    "ChainSnapshot",
    "QuoteSelection",
    "SnapshotFit",
    "fit_snapshot",
    "group_snapshots",
    "run_calibrations",
    "select_quotes",
    "window_from_event_extras",
]
