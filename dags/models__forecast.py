"""
### Forecasts from the champion models

Daily: for each target (next-day and next-week realised variance of BTC and ETH, next-day funding rate),
loads `models:/cryptoderiv-forecast-<target>@champion` from the MLflow registry, feeds it the history
before the end of the data interval from the platform database and upserts one row per series into
`forecasts`, with the model version and MLflow run that made it. Re-running a day writes the same rows.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from cryptoderiv_airflow.defaults import default_args, interval_schedule
from cryptoderiv_airflow.hooks import platform_database_url


@dag(
    dag_id="models__forecast",
    schedule=interval_schedule("15 0 * * *"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["models", "forecasting"],
    doc_md=__doc__,
    params={"config": Param("default", enum=["default", "demo"], description="training config (models and windows)")},
)
def models__forecast() -> None:
    @task
    def forecast(**context: object) -> dict[str, object]:
        from cryptoderiv.forecast.pipeline import forecast_from_database

        run = forecast_from_database(platform_database_url(), context["data_interval_end"],
                                     context["params"]["config"])
        return {"rows": run.rows, "versions": run.versions, "skipped": run.skipped}

    forecast()


models__forecast()
