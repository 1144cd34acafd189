"""
### Volatility surfaces

Runs whenever `option_greeks` is updated: a Spark job (`spark_jobs/vol_surface.py`) fits raw SVI to our mark
IVs per snapshot and expiry (`vol_surfaces`: parameters, fit quality, ATM IV, 25-delta RR/BF, fair variance)
and derives per-snapshot metrics (`vol_surface_metrics`: constant-maturity ATM IVs, 30-day RR/BF and
variance index). Both windows are replaced in one transaction each; re-runs are idempotent.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from cryptoderiv_airflow.assets import OPTION_GREEKS, VOL_SURFACE_METRICS, VOL_SURFACES
from cryptoderiv_airflow.defaults import default_args
from cryptoderiv_airflow.spark import CryptoderivSparkSubmitOperator


@dag(
    dag_id="options__fit_surfaces",
    schedule=[OPTION_GREEKS],
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    default_args=default_args(),
    tags=["options", "spark", "surfaces"],
    doc_md=__doc__,
)
def options__fit_surfaces() -> None:
    CryptoderivSparkSubmitOperator(task_id="fit_vol_surfaces", job="vol_surface",
                                   outlets=[VOL_SURFACES, VOL_SURFACE_METRICS])


options__fit_surfaces()
