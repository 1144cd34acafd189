-- Hourly and daily bars rolled up from 1m candles.
--   TimescaleDB: continuous aggregates with a refresh policy.
--   Plain PostgreSQL: materialized views refreshed by the pipeline (cryptoderiv.storage.refresh_rollups).
-- Both have the same columns: instrument_id, ts (bucket open, UTC), open, high, low, close, volume, n_bars.
DO $$
DECLARE
    bucket record;
BEGIN
    FOR bucket IN SELECT * FROM (VALUES ('ohlcv_1h', interval '1 hour'), ('ohlcv_1d', interval '1 day')) AS b(name, width)
    LOOP
        IF cd_timescale_available() THEN
            EXECUTE format($sql$
                CREATE MATERIALIZED VIEW %I WITH (timescaledb.continuous) AS
                SELECT instrument_id, time_bucket(%L::interval, ts) AS ts,
                       first(open, ts) AS open, max(high) AS high, min(low) AS low,
                       last(close, ts) AS close, sum(volume) AS volume, count(*) AS n_bars
                FROM ohlcv WHERE timeframe = '1m'
                GROUP BY instrument_id, time_bucket(%L::interval, ts)
                WITH NO DATA $sql$, bucket.name, bucket.width, bucket.width);
            PERFORM add_continuous_aggregate_policy(bucket.name::regclass,
                start_offset => bucket.width * 48, end_offset => bucket.width, schedule_interval => bucket.width);
        ELSE
            EXECUTE format($sql$
                CREATE MATERIALIZED VIEW %I AS
                SELECT instrument_id, date_bin(%L::interval, ts, timestamptz '2000-01-01 00:00:00+00') AS ts,
                       (array_agg(open ORDER BY ts))[1] AS open, max(high) AS high, min(low) AS low,
                       (array_agg(close ORDER BY ts DESC))[1] AS close, sum(volume) AS volume,
                       count(*) AS n_bars
                FROM ohlcv WHERE timeframe = '1m'
                GROUP BY 1, 2
                WITH DATA $sql$, bucket.name, bucket.width);
            -- A unique index lets the pipeline refresh CONCURRENTLY (readers are never blocked).
            EXECUTE format('CREATE UNIQUE INDEX %I ON %I (instrument_id, ts)', bucket.name || '_key', bucket.name);
        END IF;
    END LOOP;
END
$$;
