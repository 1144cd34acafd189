-- Forecasts made by the champion model of each target (cryptoderiv.forecast.pipeline, DAG models__forecast),
-- and the walk-forward evaluations of every model (cryptoderiv.forecast.training, DAG models__train_forecasters).
-- One forecast per series, target and as-of time: re-running a day upserts the same row.

SELECT cd_create_time_table('forecasts', $ddl$
    exchange        text NOT NULL,
    symbol          text NOT NULL,             -- CCXT unified symbol of the series (spot pair or perpetual)
    target          text NOT NULL,             -- rv_1d, rv_7d (realised variance), funding_1d
    horizon         integer NOT NULL CHECK (horizon > 0),  -- periods averaged by the target
    period          text NOT NULL,             -- length of one period (1D)
    as_of           timestamptz NOT NULL,      -- UTC end of the data used: forecasts cover [as_of, as_of + horizon periods)
    value           double precision NOT NULL, -- in unit
    unit            text NOT NULL,
    vol_annualised  double precision CHECK (vol_annualised >= 0),  -- sqrt(value * 365) for daily variance targets
    model_name      text NOT NULL,             -- MLflow registered model
    model_version   text NOT NULL,             -- MLflow model version that made the row
    model_kind      text NOT NULL,             -- no_change, ewma, har, garch, lstm
    mlflow_run_id   text NOT NULL,
    PRIMARY KEY (exchange, symbol, target, as_of)
$ddl$, 'as_of', interval '1 month');
COMMENT ON TABLE forecasts IS
    'Champion forecasts per series and target; value in unit (variance: decimal^2 per day), as_of UTC.';
COMMENT ON COLUMN forecasts.value IS
    'Variance targets: mean daily realised variance over the horizon, decimal^2 per day; funding: decimal per interval.';

CREATE TABLE forecast_evaluations (
    trained_at       timestamptz NOT NULL,     -- as-of time of the training run (UTC end of its data)
    target           text NOT NULL,
    series           text NOT NULL,            -- exchange:symbol, or 'all' for the pooled series
    model_kind       text NOT NULL,
    model_name       text NOT NULL,            -- MLflow registered model
    fold             integer NOT NULL CHECK (fold >= -1),  -- walk-forward fold; -1 = the whole evaluation window
    window_start     timestamptz NOT NULL,     -- first and last as-of period of the window, UTC
    window_end       timestamptz NOT NULL,
    n                integer NOT NULL CHECK (n >= 0),
    qlike            double precision,         -- variance targets only
    mse              double precision,         -- squared target units
    mae              double precision,
    r2_vs_no_change  double precision,         -- out-of-sample R^2 against the no-change forecast
    dm_stat          double precision,         -- Diebold-Mariano (HLN) vs HAR-RV; < 0: lower loss than HAR
    dm_p_value       double precision CHECK (dm_p_value BETWEEN 0 AND 1),  -- two-sided
    mlflow_run_id    text NOT NULL,
    PRIMARY KEY (trained_at, target, series, model_kind, fold)
);
COMMENT ON TABLE forecast_evaluations IS
    'Walk-forward (expanding window) metrics per model, target, series and fold; QLIKE on variances.';

GRANT SELECT ON forecasts, forecast_evaluations TO cryptoderiv_readonly;
