"""spark-submit entry point: Market features per instrument and bar of a window (table market_features).

    spark-submit --jars /usr/share/java/postgresql.jar --py-files cryptoderiv.zip spark_jobs/market_features.py \
        --start 2026-11-02T00:00:00Z --end 2026-11-03T00:00:00Z --database-url-env CRYPTODERIV_DATABASE_URL
"""

from __future__ import annotations

from cryptoderiv.features.spark.jobs import configure_json_logging, parse_job_args, run_market_features
from cryptoderiv.features.spark.session import build_session


def main() -> None:
    """Parse the arguments, build the session, run the job, stop the session."""
    configure_json_logging()
    args = parse_job_args(__doc__.splitlines()[0] if __doc__ else "market_features")
    spark = build_session("cryptoderiv.market_features", args.master)
    try:
        run_market_features(spark, args.database_url, args.start, args.end, args.partitions)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
