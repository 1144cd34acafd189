-- Data-quality gate records (cryptoderiv.quality): one row per expectation per gated batch, and the rows
-- a hard expectation kept out of the published tables.
--
-- A gated batch is identified by (run_id, table_name): re-running the gate for the same run replaces its
-- rows (the gate deletes and re-inserts them in the transaction that publishes the batch), so neither
-- table ever holds duplicates of a run. Timestamps are UTC timestamptz.

CREATE TABLE dq_results (
    run_id             text NOT NULL,              -- the caller's run id (e.g. Airflow dag run + task)
    table_name         text NOT NULL,              -- the table the batch was for
    rule               text NOT NULL,              -- stable expectation name, e.g. option_quotes.put_call_parity_marks
    expectation_type   text NOT NULL,              -- Great Expectations type, e.g. expect_column_values_to_not_be_null
    suite_name         text NOT NULL,
    suite_version      text NOT NULL,
    dimension          text NOT NULL CHECK (dimension IN ('structure', 'domain', 'time', 'derivatives')),
    severity           text NOT NULL CHECK (severity IN ('hard', 'soft')),  -- hard blocks rows, soft records
    success            boolean NOT NULL,
    observed_value     jsonb,                      -- GX observed value (batch rules) or null
    element_count      bigint CHECK (element_count >= 0),     -- rows the rule looked at
    unexpected_count   bigint CHECK (unexpected_count >= 0),  -- rows (or bars, for grid rules) failing it
    unexpected_percent double precision,
    rows_quarantined   bigint NOT NULL DEFAULT 0 CHECK (rows_quarantined >= 0),
    exception          text,                       -- set when the expectation itself could not run
    window_start       timestamptz,                -- the batch's load window [start, end), UTC
    window_end         timestamptz,
    checked_at         timestamptz NOT NULL,       -- when the gate validated the batch, UTC
    data_docs_path     text,                       -- index.html of the run's Data Docs (offline-readable)
    PRIMARY KEY (run_id, table_name, rule)
);
COMMENT ON TABLE dq_results IS
    'Data-quality results per gated batch and expectation; severity hard = offending rows quarantined.';
CREATE INDEX dq_results_checked_at_idx ON dq_results (checked_at DESC);
CREATE INDEX dq_results_failures_idx ON dq_results (table_name, checked_at DESC) WHERE NOT success;

CREATE TABLE quarantine (
    run_id           text NOT NULL,
    table_name       text NOT NULL,
    batch_row        integer NOT NULL CHECK (batch_row >= 0),  -- 0-based position of the row in the batch
    rule             text NOT NULL,                -- the hard expectation the row failed
    expectation_type text NOT NULL,
    reason           text NOT NULL,                -- what the rule demands, in words
    observed_value   jsonb,                        -- the values the rule saw for this row
    row_data         jsonb NOT NULL,               -- the offending row as it arrived
    quarantined_at   timestamptz NOT NULL,         -- UTC
    PRIMARY KEY (run_id, table_name, batch_row, rule)
);
COMMENT ON TABLE quarantine IS
    'Rows kept out of published tables by a hard data-quality expectation, one row per (row, expectation).';
CREATE INDEX quarantine_quarantined_at_idx ON quarantine (quarantined_at DESC);

-- What the dashboard may see of the quarantine: counts, not the rows.
CREATE VIEW quarantine_summary AS
SELECT run_id, table_name, rule, expectation_type,
       count(*)            AS rows_quarantined,
       min(quarantined_at) AS first_quarantined_at,
       max(quarantined_at) AS last_quarantined_at,
       min(reason)         AS reason
FROM quarantine
GROUP BY run_id, table_name, rule, expectation_type;

GRANT SELECT ON dq_results, quarantine_summary TO cryptoderiv_readonly;
