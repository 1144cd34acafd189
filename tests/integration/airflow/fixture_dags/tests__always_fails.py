"""
### A DAG that always fails

Used by the tests of the shared failure notifier.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from cryptoderiv_airflow.defaults import default_args


@dag(dag_id="tests__always_fails", schedule=None, start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
     default_args=default_args(retries=0), tags=["test"], doc_md=__doc__)
def tests__always_fails() -> None:
    @task
    def explode() -> None:
        raise RuntimeError("the exchange answered nonsense")

    explode()


tests__always_fails()
