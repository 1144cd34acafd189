"""
### Option chain snapshots

Every 15 minutes: the Deribit (inverse, coin-settled) and Bybit (USDT-settled) option chains of BTC
and ETH with the exchanges' mark, bid and ask IV (decimals) and greeks, the per-expiry forward and the
index; new listings are synced into `instruments` first. Premiums are stored as quoted
(`premium_currency`) and in USD. Downstream DAGs (greeks, surfaces, Heston) schedule on the
`option_quotes` asset.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from cryptoderiv.ingest import pipelines
from cryptoderiv.ingest.universe import OPTION_VENUES, UNDERLYINGS, venue_pool
from cryptoderiv_airflow.assets import OPTION_QUOTES
from cryptoderiv_airflow.defaults import default_args, interval_schedule
from cryptoderiv_airflow.hooks import platform_database_url
from cryptoderiv_airflow.quality import notify_quality


@dag(
    dag_id="options__snapshot_chains",
    schedule=interval_schedule("*/15 * * * *"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(execution_timeout=timedelta(minutes=12)),
    tags=["options", "ingest"],
    doc_md=__doc__,
)
def options__snapshot_chains() -> None:
    for venue in OPTION_VENUES:

        @task(task_id=f"chain_{venue}", pool=venue_pool(venue), outlets=[OPTION_QUOTES],
              map_index_template="{{ underlying }}")
        def chain(underlying: str, venue: str = venue, **context: object) -> dict[str, object]:
            return pipelines.ingest_option_chain(
                platform_database_url(), venue, underlying, context["data_interval_start"],
                context["data_interval_end"], str(context["run_id"]), notify=notify_quality).outcome()

        chain.expand(underlying=list(UNDERLYINGS))


options__snapshot_chains()
