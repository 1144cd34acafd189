"""
### Our implied volatilities and greeks

Runs whenever `option_quotes` is updated: a Spark job (`spark_jobs/option_greeks.py`, submitted through the
`spark_default` connection) computes, for every quote of the run's data interval, the Black-76 IV from bid,
ask, mid and mark (coin premiums of inverse options converted at the forward), greeks in USD and coin,
moneyness and delta bucket, and replaces that window of `option_greeks` in one transaction.
Idempotent: re-running a window leaves the same rows.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from cryptoderiv_airflow.assets import OPTION_GREEKS, OPTION_QUOTES
from cryptoderiv_airflow.defaults import default_args
from cryptoderiv_airflow.spark import CryptoderivSparkSubmitOperator


@dag(
    dag_id="options__compute_greeks",
    schedule=[OPTION_QUOTES],
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    default_args=default_args(),
    tags=["options", "spark"],
    doc_md=__doc__,
)
def options__compute_greeks() -> None:
    CryptoderivSparkSubmitOperator(task_id="compute_option_greeks", job="option_greeks", outlets=[OPTION_GREEKS])


options__compute_greeks()
