"""
### Forecasting models: weekly training, evaluation and champion choice

Weekly: reads the daily series of the forecast targets from the platform database (next-day and
next-week realised variance of BTC and ETH from the candles in `ohlcv`, next-day funding rate of the
perpetuals from `funding_rates`), runs the expanding-window walk-forward evaluation of every model
(no-change, EWMA, HAR-RV, GARCH(1,1), LSTM) on the last year, logs each as an MLflow run (parameters,
metrics per fold, forecast-vs-realised plot, the model with its signature), registers it and moves the
`champion` alias only when a challenger beats the champion by the rule in
`cryptoderiv.forecast.registry` (lower mean QLIKE and a one-sided Diebold-Mariano p < 0.05). The
evaluations go to `forecast_evaluations`. Uses data before the end of the data interval only.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

from cryptoderiv_airflow.defaults import default_args, interval_schedule
from cryptoderiv_airflow.hooks import platform_database_url


@dag(
    dag_id="models__train_forecasters",
    schedule=interval_schedule("0 3 * * 1"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(execution_timeout=timedelta(hours=2)),
    tags=["models", "forecasting", "mlflow"],
    doc_md=__doc__,
    params={"config": Param("default", enum=["default", "demo"], description="training config (models and windows)")},
)
def models__train_forecasters() -> None:
    @task
    def train(**context: object) -> dict[str, object]:
        from cryptoderiv.forecast.training import train_from_database

        report = train_from_database(platform_database_url(), context["data_interval_end"],
                                     context["params"]["config"])
        return {"mlflow_run_id": report.parent_run_id, "skipped": report.skipped,
                "champions": {o.model_name: o.champion_version for o in report.outcomes}}

    train()


models__train_forecasters()
