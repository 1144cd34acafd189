"""The Spark jobs: read a window, transform, publish. ``spark_jobs/*.py`` are thin entry points over these.

Each ``run_*`` function takes a session, a libpq URL and a window ``[start, end)`` and returns what it
published; the command-line plumbing (:func:`parse_job_args`, :func:`configure_json_logging`) is shared.
The database URL is read from an environment variable named on the command line, never from the command
line itself (process lists are world-readable).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pyspark.sql import DataFrame, SparkSession

from cryptoderiv.features.market_features import DEFAULT_TIMEFRAME, LOOKBACK_BARS
from cryptoderiv.features.spark.jdbc import WindowWrite, read_table, read_window, write_window
from cryptoderiv.features.spark.market_features import market_features, market_rows
from cryptoderiv.features.spark.option_greeks import option_greeks, option_quote_inputs
from cryptoderiv.features.spark.vol_surface import fit_vol_surfaces, surface_inputs, surface_metrics

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL_ENV = "CRYPTODERIV_DATABASE_URL"


@dataclass(frozen=True)
class JobArgs:
    """Parsed arguments of a job."""

    start: datetime
    end: datetime
    database_url: str
    master: str | None
    partitions: int


def _utc(value: str) -> datetime:
    ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if ts.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} has no time zone; give an ISO-8601 UTC time")
    return ts


def parse_job_args(description: str, argv: Sequence[str] | None = None) -> JobArgs:
    """Parse ``--start --end --database-url-env VAR --master --partitions``.

    Raises
    ------
    SystemExit
        Bad arguments, a reversed window, or the named environment variable is unset.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--start", type=_utc, required=True, help="window start, ISO-8601 with zone (inclusive)")
    parser.add_argument("--end", type=_utc, required=True, help="window end, ISO-8601 with zone (exclusive)")
    parser.add_argument("--database-url-env", default=DEFAULT_DATABASE_URL_ENV,
                        help="name of the environment variable holding the libpq database URL")
    parser.add_argument("--master", default=None, help="Spark master (default: spark-submit's or local[2])")
    parser.add_argument("--partitions", type=int, default=4, help="parallel JDBC reads of the window")
    ns = parser.parse_args(argv)
    if ns.end <= ns.start:
        parser.error("--end must be after --start")
    url = os.environ.get(ns.database_url_env)
    if not url:
        parser.error(f"environment variable {ns.database_url_env} is not set")
    return JobArgs(ns.start, ns.end, url, ns.master, ns.partitions)


class _JsonFormatter(logging.Formatter):
    _STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        payload = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                   "logger": record.name, "message": record.getMessage()}
        payload.update({k: v for k, v in record.__dict__.items() if k not in self._STANDARD})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_json_logging(level: int = logging.INFO) -> None:
    """One JSON object per log line on stderr (the jobs' structured logs)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("py4j").setLevel(logging.WARNING)


def run_option_greeks(spark: SparkSession, database_url: str, start: datetime, end: datetime,
                      partitions: int = 4) -> WindowWrite:
    """Compute ``option_greeks`` for the quotes of ``[start, end)`` and replace that window."""
    began = time.perf_counter()
    quotes = read_window(spark, database_url, "option_quotes", start, end, num_partitions=partitions)
    instruments = read_table(spark, database_url, "instruments")
    result = write_window(option_greeks(option_quote_inputs(quotes, instruments)), database_url,
                          "option_greeks", start, end)
    log.info("job done", extra={"job": "option_greeks", "rows": result.rows_inserted,
                                "seconds": round(time.perf_counter() - began, 3)})
    return result


def run_vol_surface(spark: SparkSession, database_url: str, start: datetime, end: datetime,
                    partitions: int = 4) -> tuple[WindowWrite, WindowWrite]:
    """Fit SVI slices and surface metrics from ``option_greeks`` of ``[start, end)`` and replace that window."""
    began = time.perf_counter()
    greeks = read_window(spark, database_url, "option_greeks", start, end, num_partitions=partitions)
    quotes = read_window(spark, database_url, "option_quotes", start, end, num_partitions=partitions,
                         columns=["instrument_id", "ts", "index_price"])
    instruments = read_table(spark, database_url, "instruments")
    slices = fit_vol_surfaces(surface_inputs(greeks, quotes, instruments)).cache()
    try:
        written_slices = write_window(slices, database_url, "vol_surfaces", start, end)
        written_metrics = write_window(surface_metrics(slices), database_url, "vol_surface_metrics", start, end)
    finally:
        slices.unpersist()
    log.info("job done", extra={"job": "vol_surface", "slices": written_slices.rows_inserted,
                                "snapshots": written_metrics.rows_inserted,
                                "seconds": round(time.perf_counter() - began, 3)})
    return written_slices, written_metrics


def run_market_features(spark: SparkSession, database_url: str, start: datetime, end: datetime,
                        partitions: int = 4, timeframe: str = DEFAULT_TIMEFRAME) -> WindowWrite:
    """Compute ``market_features`` for the bars of ``[start, end)`` (reading the look-back before it)."""
    import pandas as pd  # the bar size only

    began = time.perf_counter()
    lookback = timedelta(seconds=pd.Timedelta(timeframe).total_seconds() * LOOKBACK_BARS)
    read_from = start - lookback

    def window(table: str) -> DataFrame:
        return read_window(spark, database_url, table, read_from, end, num_partitions=partitions)

    rows = market_rows(window("ohlcv"), read_table(spark, database_url, "instruments"),
                       funding=window("funding_rates"), open_interest=window("open_interest"),
                       futures_quotes=window("futures_quotes"), timeframe=timeframe)
    result = write_window(market_features(rows, start, end, timeframe), database_url, "market_features", start, end)
    log.info("job done", extra={"job": "market_features", "rows": result.rows_inserted,
                                "seconds": round(time.perf_counter() - began, 3)})
    return result
