"""
### 1m candles, spot and perpetuals

Hourly: for each venue and symbol of the collection universe (`cryptoderiv.ingest.universe`), the 1m
candles whose open time lies in the data interval `[start, end)`, fetched with explicit since/limit
pages, deduplicated at the seams, gaps reported, raw answers landed as Parquet, rows upserted into
`ohlcv`. One mapped task per symbol; a pool per venue limits concurrent requests. Re-running or
backfilling (`airflow backfill create --dag-id market__ingest_ohlcv --from-date ... --to-date ...`) an
interval publishes the same rows.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from cryptoderiv.ingest import pipelines
from cryptoderiv.ingest.universe import CANDLE_SYMBOLS, venue_pool
from cryptoderiv_airflow.assets import OHLCV
from cryptoderiv_airflow.defaults import default_args, interval_schedule
from cryptoderiv_airflow.hooks import platform_database_url
from cryptoderiv_airflow.quality import notify_quality


@dag(
    dag_id="market__ingest_ohlcv",
    schedule=interval_schedule("@hourly"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=2,
    default_args=default_args(),
    tags=["market", "ingest"],
    doc_md=__doc__,
)
def market__ingest_ohlcv() -> None:
    for venue, symbols in CANDLE_SYMBOLS.items():

        @task(task_id=f"candles_{venue}", pool=venue_pool(venue), outlets=[OHLCV], map_index_template="{{ symbol }}")
        def candles(symbol: str, venue: str = venue, **context: object) -> dict[str, object]:
            return pipelines.ingest_ohlcv(platform_database_url(), venue, symbol, "1m",
                                          context["data_interval_start"], context["data_interval_end"],
                                          str(context["run_id"]), notify=notify_quality).outcome()

        candles.expand(symbol=list(symbols))


market__ingest_ohlcv()
