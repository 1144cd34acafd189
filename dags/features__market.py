"""
### Market features

Hourly: a Spark job (`spark_jobs/market_features.py`) turns the hourly candles, funding rates, open interest
and futures quotes into per-instrument features for the forecasting models (returns, realised-vol
estimators over 24 and 168 bars, funding and basis, open-interest change, cross-venue spread) and replaces
the run's window of `market_features`. Reads 169 bars of look-back; never looks ahead; idempotent.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from cryptoderiv_airflow.assets import MARKET_FEATURES
from cryptoderiv_airflow.defaults import default_args
from cryptoderiv_airflow.spark import CryptoderivSparkSubmitOperator


@dag(
    dag_id="features__market",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    default_args=default_args(),
    tags=["features", "spark"],
    doc_md=__doc__,
)
def features__market() -> None:
    CryptoderivSparkSubmitOperator(task_id="compute_market_features", job="market_features",
                                   outlets=[MARKET_FEATURES])


features__market()
