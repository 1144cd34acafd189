"""spark-submit entry point: SVI fits per snapshot and expiry, and surface metrics, from option_greeks of a window.

    spark-submit --jars /usr/share/java/postgresql.jar --py-files cryptoderiv.zip spark_jobs/vol_surface.py \
        --start 2026-11-02T00:00:00Z --end 2026-11-03T00:00:00Z --database-url-env CRYPTODERIV_DATABASE_URL
"""

from __future__ import annotations

from cryptoderiv.features.spark.jobs import configure_json_logging, parse_job_args, run_vol_surface
from cryptoderiv.features.spark.session import build_session


def main() -> None:
    """Parse the arguments, build the session, run the job, stop the session."""
    configure_json_logging()
    args = parse_job_args(__doc__.splitlines()[0] if __doc__ else "vol_surface")
    spark = build_session("cryptoderiv.vol_surface", args.master)
    try:
        run_vol_surface(spark, args.database_url, args.start, args.end, args.partitions)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
