"""
### Funding, open interest and futures quotes

Hourly: funding-rate history and open interest of each perpetual in the data interval (Deribit, which
publishes no open-interest history: its current figure), and a snapshot
of perpetual and dated-futures marks, index and basis per venue and underlying. Raw answers are
landed as Parquet; rows are upserted into `funding_rates`, `open_interest` and `futures_quotes`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from cryptoderiv.ingest import pipelines
from cryptoderiv.ingest.universe import (
    FUTURES_VENUES,
    OPEN_INTEREST_HISTORY,
    PERPETUALS,
    UNDERLYINGS,
    venue_pool,
)
from cryptoderiv_airflow.assets import FUNDING_RATES, FUTURES_QUOTES, OPEN_INTEREST
from cryptoderiv_airflow.defaults import default_args, interval_schedule
from cryptoderiv_airflow.hooks import platform_database_url
from cryptoderiv_airflow.quality import notify_quality


@dag(
    dag_id="derivs__ingest_funding_oi",
    schedule=interval_schedule("@hourly"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=2,
    default_args=default_args(),
    tags=["derivatives", "ingest"],
    doc_md=__doc__,
)
def derivs__ingest_funding_oi() -> None:
    for venue, perpetuals in PERPETUALS.items():

        @task(task_id=f"funding_{venue}", pool=venue_pool(venue), outlets=[FUNDING_RATES],
              map_index_template="{{ symbol }}")
        def funding(symbol: str, venue: str = venue, **context: object) -> dict[str, object]:
            return pipelines.ingest_funding(platform_database_url(), venue, symbol, context["data_interval_start"],
                                            context["data_interval_end"], str(context["run_id"]),
                                            notify=notify_quality).outcome()

        @task(task_id=f"open_interest_{venue}", pool=venue_pool(venue), outlets=[OPEN_INTEREST],
              map_index_template="{{ symbol }}")
        def open_interest(symbol: str, venue: str = venue, **context: object) -> dict[str, object]:
            return pipelines.ingest_open_interest(
                platform_database_url(), venue, symbol, context["data_interval_start"],
                context["data_interval_end"], str(context["run_id"]), history=OPEN_INTEREST_HISTORY[venue],
                notify=notify_quality).outcome()

        funding.expand(symbol=list(perpetuals))
        open_interest.expand(symbol=list(perpetuals))

    for venue in FUTURES_VENUES:

        @task(task_id=f"futures_quotes_{venue}", pool=venue_pool(venue), outlets=[FUTURES_QUOTES],
              map_index_template="{{ underlying }}")
        def futures_quotes(underlying: str, venue: str = venue, **context: object) -> dict[str, object]:
            return pipelines.ingest_futures_quotes(
                platform_database_url(), venue, underlying, context["data_interval_start"],
                context["data_interval_end"], str(context["run_id"]), notify=notify_quality).outcome()

        futures_quotes.expand(underlying=list(UNDERLYINGS))


derivs__ingest_funding_oi()
