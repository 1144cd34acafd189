"""
### Instrument catalog sync

Daily, per venue: loads the venue's listings through CCXT and brings `instruments` in line as of the
end of the data interval (new listings, specification changes, expiries and delistings; rows are
never deleted). Raw `load_markets` answers are landed as Parquet under `.local/landing/instruments/`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from cryptoderiv.ingest import pipelines
from cryptoderiv.ingest.universe import CATALOG_KINDS, venue_pool
from cryptoderiv_airflow.assets import INSTRUMENTS
from cryptoderiv_airflow.defaults import default_args, interval_schedule
from cryptoderiv_airflow.hooks import platform_database_url


@dag(
    dag_id="market__sync_instruments",
    schedule=interval_schedule("@daily"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    default_args=default_args(),
    tags=["market", "ingest"],
    doc_md=__doc__,
)
def market__sync_instruments() -> None:
    for venue, kinds in CATALOG_KINDS.items():

        @task(task_id=f"sync_{venue}", pool=venue_pool(venue), outlets=[INSTRUMENTS])
        def sync(venue: str = venue, kinds: tuple[str, ...] = kinds, **context: object) -> dict[str, int]:
            summary = pipelines.sync_catalog(platform_database_url(), venue, str(context["run_id"]),
                                             context["data_interval_end"], kinds=list(kinds))
            assert summary.catalog is not None
            return {"listed": summary.catalog.listed, "new": summary.catalog.new,
                    "delisted": summary.catalog.delisted}

        sync()


market__sync_instruments()
