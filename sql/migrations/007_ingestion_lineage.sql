-- Lineage of every ingestion run: what was fetched, from where, for which window, where the raw
-- responses were landed, and how many rows each table received. One row per (run, dataset, exchange);
-- a re-run of the same Airflow run replaces its row.
CREATE TABLE ingest_runs (
    run_id        text NOT NULL,          -- Airflow run id (or a CLI-made one)
    dataset       text NOT NULL,          -- ohlcv, funding, open_interest, futures_quotes, option_chain, instruments
    exchange      text NOT NULL CHECK (exchange IN ('binance', 'bybit', 'deribit')),
    source        text NOT NULL CHECK (source IN ('simulator', 'live', 'replay')),
    window_start  timestamptz NOT NULL,   -- [window_start, window_end), UTC
    window_end    timestamptz NOT NULL,
    landing_path  text,                   -- Parquet file of the raw responses used
    rows_written  jsonb NOT NULL DEFAULT '{}'::jsonb,   -- {"ohlcv": 1440, ...}
    status        text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    message       text,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL,
    PRIMARY KEY (run_id, dataset, exchange),
    CHECK (window_end > window_start)
);
CREATE INDEX ingest_runs_recent_idx ON ingest_runs (finished_at DESC);
GRANT SELECT ON ingest_runs TO cryptoderiv_readonly;
