"""MLflow entry point: the LSTM volatility forecaster against no-change and HAR-RV (walk-forward).

``mlflow run models/lstm --env-manager local [-P target=rv_7d] [-P epochs=5]``; the model code is in
``cryptoderiv.forecast``. Without ``mlflow run`` (plain ``python train.py``) the run goes to the
platform's tracking store (``cryptoderiv.tracking.configure_mlflow``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import mlflow
import pandas as pd
import yaml

from cryptoderiv.forecast.data import load_binance_csv, realized_from_bars
from cryptoderiv.forecast.training import run_lstm_experiment

HERE = Path(__file__).resolve().parent


def load_frames(data: dict) -> dict[str, pd.DataFrame]:
    if data["source"] == "csv":
        folder = (HERE / data["csv_dir"]).resolve()
        frames = {f"binance:{s}/USDT": realized_from_bars(load_binance_csv(folder / f"{s}USDT_4h.csv"), "1D", 0.8)
                  for s in data["symbols"]}
    else:
        from cryptoderiv.forecast.training import DEFAULT_SOURCES, load_training_series
        from cryptoderiv.storage.database import connect

        with connect() as conn:
            frames = load_training_series(conn, pd.Timestamp.now(tz="UTC"), ["rv_1d"], DEFAULT_SOURCES)["rv_1d"]
    last = int(data.get("last_days") or 0)
    return {k: f.iloc[-last:] if last else f for k, f in frames.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--target", default="rv_1d", choices=["rv_1d", "rv_7d"])
    parser.add_argument("--epochs", type=float, default=-1, help="override the config's epochs (> 0)")
    args = parser.parse_args()
    config = yaml.safe_load((HERE / args.config).read_text())
    lstm = dict(config["lstm"])
    if args.epochs > 0:
        lstm["epochs"] = int(args.epochs)
    if "MLFLOW_RUN_ID" not in os.environ:  # plain python: the platform store; under `mlflow run`: its run
        from cryptoderiv.tracking import configure_mlflow

        configure_mlflow("lstm-experiments")
    with mlflow.start_run():
        run_lstm_experiment(load_frames(config["data"]), args.target, lstm,
                                    config["evaluation"]["test_periods"], config["evaluation"]["refit_every"],
                                    config.get("random_state", 0))


if __name__ == "__main__":
    main()
