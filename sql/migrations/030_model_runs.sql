-- Model runs and the Heston calibration history (cryptoderiv.calibration, DAG models__calibrate_heston).
--
-- model_runs: one row per model run of any kind (here kind = 'heston_calibration': one underlying of one
-- venue at one chain snapshot), with its status, fit metrics and the MLflow run that holds the details.
-- heston_params: the calibrated parameters per venue, underlying and snapshot, whether they passed the
-- acceptance rules, and which row is the current good set per venue and underlying.
--
-- Both are small (a few rows per snapshot) and are read by "latest good parameters" lookups, which need
-- a partial unique index on (exchange, underlying) WHERE is_current: that cannot exist on a partitioned
-- table without the partition key, so these are plain tables, not cd_create_time_table ones.
-- Rows are keyed by the snapshot: re-running a window upserts the same keys (idempotent).

CREATE TABLE model_runs (
    run_id            text PRIMARY KEY,          -- deterministic: '<kind>:<exchange>:<underlying>:<snapshot ISO UTC>'
    kind              text NOT NULL CHECK (kind IN ('heston_calibration')),
    exchange          text NOT NULL,
    underlying        text NOT NULL,             -- base coin, e.g. BTC
    snapshot_ts       timestamptz NOT NULL,      -- first quote time of the chain snapshot, UTC
    status            text NOT NULL CHECK (status IN ('converged', 'failed', 'rejected')),
    message           text NOT NULL,             -- why: optimiser message, rejection rule or error
    n_quotes          integer NOT NULL CHECK (n_quotes >= 0),       -- liquid quotes used in the fit
    n_expiries        integer NOT NULL CHECK (n_expiries >= 0),
    metrics           jsonb NOT NULL,            -- fit metrics (see docs/heston-calibration.md for units)
    config            jsonb NOT NULL,            -- filter rules, objective, acceptance thresholds
    input_fingerprint text NOT NULL,             -- sha256 of the quotes used: same inputs, same row
    warm_start_from   timestamptz,               -- snapshot whose good parameters seeded the fit, UTC
    mlflow_run_id     text,
    mlflow_experiment_id text,
    wall_time_s       double precision CHECK (wall_time_s >= 0),    -- seconds, calibration only
    started_at        timestamptz NOT NULL,      -- lineage only (wall clock of the run), UTC
    UNIQUE (kind, exchange, underlying, snapshot_ts)
);
COMMENT ON TABLE model_runs IS
    'One row per model run (Heston calibration per venue/underlying/snapshot): status, metrics, MLflow run.';
COMMENT ON COLUMN model_runs.metrics IS
    'JSON: rmse_iv (vol decimal), rmse_premium (premium currency, coin for inverse), rmse_premium_usd (USD),'
    ' within_spread (share 0..1), max_abs_iv_error, iterations, n_evaluations, feller_ratio, ...';
CREATE INDEX model_runs_recent_idx ON model_runs (kind, exchange, underlying, snapshot_ts DESC);

CREATE TABLE heston_params (
    exchange           text NOT NULL,
    underlying         text NOT NULL,
    snapshot_ts        timestamptz NOT NULL,     -- UTC, as in model_runs
    run_id             text NOT NULL REFERENCES model_runs (run_id) ON DELETE CASCADE,
    status             text NOT NULL CHECK (status IN ('converged', 'failed', 'rejected')),
    is_current         boolean NOT NULL DEFAULT false,  -- the latest converged snapshot of exchange/underlying
    v0                 double precision NOT NULL CHECK (v0 > 0),       -- initial variance, annual decimal^2
    kappa              double precision NOT NULL CHECK (kappa > 0),    -- mean reversion speed, 1/year
    theta              double precision NOT NULL CHECK (theta > 0),    -- long-run variance, annual decimal^2
    sigma              double precision NOT NULL CHECK (sigma > 0),    -- volatility of variance, 1/sqrt(year)
    rho                double precision NOT NULL CHECK (rho > -1 AND rho < 1),  -- spot/variance correlation
    feller_ratio       double precision NOT NULL,                       -- 2 kappa theta / sigma^2
    feller_satisfied   boolean NOT NULL,                                -- feller_ratio >= 1
    rmse_iv            double precision,         -- vol decimal (0.01 = 1 vol point), liquid quotes
    rmse_premium       double precision,         -- in premium_currency (coin for inverse options)
    rmse_premium_usd   double precision,         -- USD per option on one coin
    premium_currency   text NOT NULL,
    within_spread      double precision CHECK (within_spread BETWEEN 0 AND 1),  -- share of model prices in [bid, ask]
    max_abs_iv_error   double precision,         -- vol decimal
    iterations         integer NOT NULL CHECK (iterations >= 0),
    n_quotes           integer NOT NULL CHECK (n_quotes > 0),
    PRIMARY KEY (exchange, underlying, snapshot_ts)
);
COMMENT ON TABLE heston_params IS
    'Calibrated Heston parameters per venue/underlying/snapshot (variance units, ACT/365); is_current marks'
    ' the last converged fit, which a failed or rejected one never replaces.';
CREATE UNIQUE INDEX heston_params_one_current ON heston_params (exchange, underlying) WHERE is_current;

CREATE VIEW heston_params_current AS
SELECT exchange, underlying, snapshot_ts, v0, kappa, theta, sigma, rho, feller_ratio, feller_satisfied,
       rmse_iv, rmse_premium, rmse_premium_usd, premium_currency, within_spread, run_id
FROM heston_params
WHERE is_current;
COMMENT ON VIEW heston_params_current IS 'The current good Heston parameters per exchange and underlying.';

GRANT SELECT ON model_runs, heston_params, heston_params_current TO cryptoderiv_readonly;
