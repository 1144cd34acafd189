"""MLflow project entry point: Heston calibration of the chain snapshots in the platform database.

The model code is :mod:`cryptoderiv.calibration`; this script parses the project parameters, opens the
project's run (``mlflow run`` passes it in ``MLFLOW_RUN_ID``) and calibrates with each snapshot as a nested
run. The database comes from the settings (``DATABASE_URL``, default the local cluster).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from cryptoderiv.calibration import CalibrationConfig, run_calibrations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, default=Path(__file__).with_name("config.yaml"))
    parser.add_argument("--window-start", default="")
    parser.add_argument("--window-end", default="")
    parser.add_argument("--underlyings", default="BTC,ETH")
    parser.add_argument("--exchanges", default="")
    parser.add_argument("--force", default="false")
    args = parser.parse_args(argv)
    for name in ("window_start", "window_end", "underlyings", "exchanges", "force"):  # MLflow's quoting of ""
        setattr(args, name, getattr(args, name).strip("'\""))

    import mlflow

    config = CalibrationConfig.from_mapping(yaml.safe_load(args.config.read_text()) or {})
    with mlflow.start_run() as parent:
        experiment = mlflow.get_experiment(parent.info.experiment_id).name
        mlflow.log_artifact(str(args.config))
        outcomes = run_calibrations(
            None, args.window_start or None, args.window_end or None,
            underlyings=[u for u in args.underlyings.split(",") if u] or None,
            exchanges=[e for e in args.exchanges.split(",") if e] or None,
            config=config, force=args.force.lower() in {"1", "true", "yes"}, experiment=experiment,
        )
        counts = {s: sum(o.status == s for o in outcomes) for s in ("converged", "rejected", "failed")}
        mlflow.log_metrics({f"snapshots_{k}": float(v) for k, v in counts.items()})
        for outcome in outcomes:
            print(outcome.summary())  # noqa: T201 - entry point output
        print(f"{len(outcomes)} calibration(s): {counts}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
