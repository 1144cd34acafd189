"""
### Time-series table upkeep

Daily: creates the partitions of every time-series table 35 days ahead, drops partitions past their
retention (plain PostgreSQL; TimescaleDB runs both as its own jobs), and refreshes the hourly and
daily candle rollups (`ohlcv_1h`, `ohlcv_1d`). Idempotent: a re-run creates and drops nothing.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from cryptoderiv.storage.rollups import maintain_time_tables, refresh_rollups
from cryptoderiv_airflow.assets import OHLCV_ROLLUPS
from cryptoderiv_airflow.defaults import default_args, interval_schedule
from cryptoderiv_airflow.hooks import platform_database_url


@dag(
    dag_id="maintenance__time_tables",
    schedule=interval_schedule("@daily"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    default_args=default_args(),
    tags=["maintenance", "storage"],
    doc_md=__doc__,
)
def maintenance__time_tables() -> None:
    @task
    def maintain_partitions() -> list[tuple[str, int, int]]:
        return maintain_time_tables(platform_database_url())

    @task(outlets=[OHLCV_ROLLUPS])
    def refresh_candle_rollups() -> None:
        refresh_rollups(platform_database_url())

    maintain_partitions() >> refresh_candle_rollups()


maintenance__time_tables()
