-- Outputs of the Spark batch jobs (cryptoderiv.features.spark): our IVs and greeks per option quote, SVI
-- slices and surface metrics per snapshot, market features per instrument and bar. Each job replaces
-- its window [start, end) in one transaction, so re-running a window leaves the same rows.

SELECT cd_create_time_table('option_greeks', $ddl$
    instrument_id  integer NOT NULL,          -- references instruments (enforced by the writer)
    ts             timestamptz NOT NULL,      -- snapshot time of the quote, UTC
    time_to_expiry double precision NOT NULL CHECK (time_to_expiry > 0),  -- ACT/365 years
    forward        double precision NOT NULL CHECK (forward > 0),         -- per-expiry forward, USD per coin
    moneyness      double precision NOT NULL CHECK (moneyness > 0),       -- strike / forward
    log_moneyness  double precision NOT NULL,                             -- ln(strike / forward)
    mid_usd        double precision CHECK (mid_usd >= 0),                 -- (bid + ask) / 2, USD
    iv_bid         double precision CHECK (iv_bid >= 0),                  -- Black-76 IVs, decimal
    iv_ask         double precision CHECK (iv_ask >= 0),
    iv_mid         double precision CHECK (iv_mid >= 0),
    iv_mark        double precision CHECK (iv_mark >= 0),
    delta          double precision,          -- USD greeks per option on one coin, w.r.t. the forward
    gamma          double precision,          -- per USD
    vega           double precision,          -- USD per 1.00 of vol
    theta          double precision,          -- USD per year (calendar)
    rho            double precision,          -- USD per 1.00 of rate
    vanna          double precision,
    volga          double precision,
    delta_coin     double precision,          -- coin: delta - premium in coin (Deribit net delta)
    gamma_coin     double precision,          -- d2(V/F)/dF2, coin per USD^2
    vega_coin      double precision,          -- coin per 1.00 of vol
    theta_coin     double precision,          -- coin per year
    rho_coin       double precision,          -- coin per 1.00 of rate
    vanna_coin     double precision,          -- d2(V/F)/dF dvol, coin per USD per 1.00 of vol
    volga_coin     double precision,          -- coin per (1.00 of vol)^2
    delta_bucket   text CHECK (delta_bucket ~ '^[CP](00-10|10-25|25-40|40-60|60-75|75-90|90-100)$'),
    PRIMARY KEY (instrument_id, ts)
$ddl$, 'ts', interval '7 days');
COMMENT ON TABLE option_greeks IS
    'Our Black-76 IVs (decimal) from bid/ask/mid/mark and greeks at the mark IV, in USD and coin; ACT/365.';
COMMENT ON COLUMN option_greeks.instrument_id IS 'references instruments(instrument_id)';
COMMENT ON COLUMN option_greeks.delta_coin IS
    'Deribit convention for inverse options: delta - premium in coin (F d(V/F)/dF), in coins.';

SELECT cd_create_time_table('vol_surfaces', $ddl$
    exchange            text NOT NULL,
    base                text NOT NULL,
    ts                  timestamptz NOT NULL,      -- snapshot time, UTC
    expiry              timestamptz NOT NULL,
    time_to_expiry      double precision NOT NULL CHECK (time_to_expiry > 0),  -- ACT/365 years
    forward             double precision NOT NULL CHECK (forward > 0),         -- USD per coin
    index_price         double precision NOT NULL CHECK (index_price > 0),     -- USD per coin
    svi_a               double precision NOT NULL, -- raw SVI in total variance w(k), k = ln(K/F)
    svi_b               double precision NOT NULL CHECK (svi_b >= 0),
    svi_rho             double precision NOT NULL CHECK (svi_rho > -1 AND svi_rho < 1),
    svi_m               double precision NOT NULL,
    svi_sigma           double precision NOT NULL CHECK (svi_sigma > 0),
    rmse_total_variance double precision NOT NULL CHECK (rmse_total_variance >= 0),
    n_points            integer NOT NULL CHECK (n_points > 0),
    min_g               double precision,          -- min of Gatheral's g(k); < 0: butterfly arbitrage
    k_min               double precision,          -- log-moneyness range of the fitted quotes
    k_max               double precision,
    atm_iv              double precision,          -- decimal
    iv_25d_call         double precision,
    iv_25d_put          double precision,
    rr_25d              double precision,          -- 25-delta call IV - put IV, decimal vol
    bf_25d              double precision,          -- (call + put) / 2 - ATM, decimal vol
    fair_variance       double precision CHECK (fair_variance >= 0),  -- variance-swap strike, annual decimal^2
    PRIMARY KEY (exchange, base, expiry, ts)
$ddl$, 'ts', interval '1 month');
COMMENT ON TABLE vol_surfaces IS 'Per-snapshot, per-expiry SVI fits of our mark IVs, with ATM and 25-delta metrics.';

SELECT cd_create_time_table('vol_surface_metrics', $ddl$
    exchange           text NOT NULL,
    base               text NOT NULL,
    ts                 timestamptz NOT NULL,
    n_expiries         integer NOT NULL CHECK (n_expiries > 0),
    atm_iv_7d          double precision,           -- constant-maturity ATM IV, decimal
    atm_iv_30d         double precision,
    atm_iv_60d         double precision,
    atm_iv_90d         double precision,
    rr_25d_30d         double precision,           -- decimal vol, 30-day interpolated surface
    bf_25d_30d         double precision,
    variance_index_30d double precision CHECK (variance_index_30d >= 0),  -- 30-day vol index, decimal
    PRIMARY KEY (exchange, base, ts)
$ddl$, 'ts', interval '1 month');
COMMENT ON TABLE vol_surface_metrics IS 'Per-snapshot surface metrics at constant maturities (ACT/365).';

SELECT cd_create_time_table('market_features', $ddl$
    instrument_id         integer NOT NULL,   -- references instruments (enforced by the writer)
    timeframe             text NOT NULL CHECK (timeframe IN ('1m', '5m', '15m', '1h', '4h', '1d', '1w')),
    ts                    timestamptz NOT NULL,        -- bar open time, UTC; features as of the bar close
    exchange              text NOT NULL,
    base                  text NOT NULL,
    kind                  text NOT NULL CHECK (kind IN ('spot', 'perpetual', 'future')),
    close                 double precision NOT NULL CHECK (close > 0),    -- quote currency
    log_return            double precision,            -- one bar
    return_24             double precision,            -- log return over 24 bars
    rv_cc_24              double precision,            -- realised vols, annualised decimal, window in bars
    rv_parkinson_24       double precision,
    rv_gk_24              double precision,
    rv_yz_24              double precision,
    rv_cc_168             double precision,
    rv_parkinson_168      double precision,
    rv_gk_168             double precision,
    rv_yz_168             double precision,
    funding_rate          double precision,            -- last published, decimal per interval
    funding_apr           double precision,            -- rate * 24 * 365 / interval_hours
    basis                 double precision,            -- mark / index - 1
    basis_apr             double precision,            -- basis * 365 / days to expiry (dated futures)
    oi_usd                double precision CHECK (oi_usd >= 0),
    oi_change_24          double precision,            -- relative change over 24 bars
    cross_venue_spread_bp double precision,            -- close / median over venues - 1, basis points
    PRIMARY KEY (instrument_id, timeframe, ts)
$ddl$, 'ts', interval '1 month');
COMMENT ON TABLE market_features IS 'Per-instrument bar features for the forecasting models; no look-ahead.';
COMMENT ON COLUMN market_features.instrument_id IS 'references instruments(instrument_id)';

GRANT SELECT ON option_greeks, vol_surfaces, vol_surface_metrics, market_features TO cryptoderiv_readonly;
