-- Risk layer (cryptoderiv.portfolio, cryptoderiv.risk): positions, portfolio greeks, VaR/ES and their
-- backtests, stress results, expected return per position, payoff curves.
--
-- Conventions (all tables):
--   * portfolio      free text name, e.g. 'sample'; position_id a label unique within the portfolio.
--   * position_id = 'TOTAL' is reserved for the portfolio total row in the per-position result tables,
--     'TOTAL:<BASE>' (e.g. 'TOTAL:BTC') for per-underlying totals; the loader rejects labels starting 'TOTAL'.
--   * as_of          the UTC calendar date the figures are computed for (market data up to its close).
--   * money columns  *_usd in USD, *_coin in the position's base coin (BTC or ETH).
--   * vols           decimal (0.55 = 55 %); vol shocks in vol POINTS (10 = +0.10 decimal IV).
--   * time           ACT/365 years; annualised on 365 days.
-- Every result table is replaced per (portfolio, as_of) by the writer in one transaction, so re-running a
-- date leaves the same rows.

CREATE TABLE positions (
    portfolio        text NOT NULL,
    position_id      text NOT NULL CHECK (position_id !~ '^TOTAL'),
    exchange         text NOT NULL CHECK (exchange IN ('binance', 'bybit', 'deribit')),
    symbol           text NOT NULL,            -- CCXT unified symbol as the venue/simulator lists it
    instrument_id    integer,                  -- references instruments (soft; NULL when not in the catalog)
    kind             text NOT NULL CHECK (kind IN ('spot', 'perpetual', 'future', 'option')),
    base             text NOT NULL,            -- underlying coin, e.g. BTC
    is_inverse       boolean NOT NULL,         -- coin-margined: premiums/P&L settle in base coin
    option_type      text CHECK (option_type IN ('call', 'put')),
    strike           double precision CHECK (strike > 0),   -- USD per coin
    expiry           timestamptz,              -- UTC; futures and options
    size             double precision NOT NULL CHECK (size <> 0),  -- signed, + long / - short, in size_unit
    size_unit        text NOT NULL CHECK (size_unit IN ('coin', 'contracts', 'usd')),
    contract_size    double precision NOT NULL DEFAULT 1 CHECK (contract_size > 0),
                                               -- per contract: coins (linear, options) or USD (inverse futures)
    quantity_coin    double precision,         -- size converted to coins at entry (informational)
    entry_price      double precision NOT NULL CHECK (entry_price >= 0),  -- in entry_price_unit
    entry_price_unit text NOT NULL CHECK (entry_price_unit IN ('usd', 'coin')),  -- coin: inverse option premium
    entry_ts         timestamptz,              -- UTC, optional
    source           text,                     -- file the position was imported from
    source_line      integer,                  -- 1-based line in that file
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (portfolio, position_id),
    CHECK ((kind = 'option') = (strike IS NOT NULL AND option_type IS NOT NULL)),
    CHECK (kind NOT IN ('future', 'option') OR expiry IS NOT NULL),
    CHECK (size_unit <> 'usd' OR (is_inverse AND kind IN ('perpetual', 'future')))
);
COMMENT ON TABLE positions IS
    'Portfolio positions: signed size in size_unit (coin|contracts|usd), entry price in usd or coin; UTC.';
COMMENT ON COLUMN positions.instrument_id IS 'references instruments(instrument_id)';
COMMENT ON COLUMN positions.size IS 'Signed; + long, - short; unit in size_unit (usd only for inverse futures).';
COMMENT ON COLUMN positions.entry_price IS 'USD per coin (spot/futures, linear options) or coin per option (inverse).';

CREATE TABLE position_greeks (
    portfolio      text NOT NULL,
    as_of          date NOT NULL,
    position_id    text NOT NULL,            -- 'TOTAL' = portfolio total
    base           text,                     -- NULL on TOTAL rows
    spot_usd       double precision,         -- underlying spot used, USD per coin
    value_usd      double precision NOT NULL,    -- mark-to-market value (options) / unrealised P&L (futures)
    delta_coin     double precision NOT NULL,    -- coins of underlying (dV/dS in coins, V in USD)
    delta_usd      double precision NOT NULL,    -- delta_coin * spot
    gamma_coin     double precision NOT NULL,    -- coins per USD move of spot
    gamma_usd      double precision NOT NULL,    -- USD delta change per 1 % spot move: 0.01 * S^2 * gamma
    vega_usd       double precision NOT NULL,    -- USD per 1 vol point (0.01 decimal)
    theta_usd      double precision NOT NULL,    -- USD per calendar day
    vanna_usd      double precision NOT NULL,    -- USD delta change per 1 vol point (S * d2V/dS dvol * 0.01)
    volga_usd      double precision NOT NULL,    -- USD vega change per 1 vol point (d2V/dvol2 * 1e-4)
    vega_coin      double precision NOT NULL,    -- the same in base coin (USD figure / spot)
    theta_coin     double precision NOT NULL,
    beta_to_btc    double precision,             -- OLS beta of daily base returns on BTC returns
    btc_beta_delta_usd double precision NOT NULL, -- delta_usd * beta_to_btc (BTC-equivalent USD delta)
    PRIMARY KEY (portfolio, as_of, position_id)
);
COMMENT ON TABLE position_greeks IS
    'Portfolio greeks per position and TOTAL: coin and USD; vega/vanna/volga per vol point; theta per day.';

CREATE TABLE risk_metrics (
    portfolio           text NOT NULL,
    as_of               date NOT NULL,
    method              text NOT NULL CHECK (method IN ('hs', 'fhs', 'mc_heston', 'parametric')),
    horizon_days        smallint NOT NULL CHECK (horizon_days > 0),   -- calendar days
    level               double precision NOT NULL CHECK (level > 0 AND level < 1),  -- 0.99 = 99 % VaR
    var_usd             double precision NOT NULL,   -- loss quantile, positive = loss, USD
    es_usd              double precision NOT NULL,   -- expected shortfall (mean loss beyond VaR), USD
    portfolio_value_usd double precision,            -- mark-to-market value at as_of, USD
    n_scenarios         integer NOT NULL CHECK (n_scenarios > 0),
    window_start        date,                        -- first return date used (hs/fhs)
    window_end          date,
    is_comparison       boolean NOT NULL DEFAULT false,  -- true for the parametric Gaussian figure
    details             jsonb,                       -- method parameters (lambda, Heston params source, ...)
    computed_at         timestamptz NOT NULL DEFAULT now(),  -- the writer stores the market snapshot time (UTC)
    PRIMARY KEY (portfolio, as_of, method, horizon_days, level)
);
COMMENT ON TABLE risk_metrics IS
    'VaR/ES per portfolio, date, method (hs|fhs|mc_heston|parametric), horizon (days), level; USD, loss > 0.';

CREATE TABLE var_backtests (
    portfolio        text NOT NULL,          -- portfolio name, or a series like 'BTCUSDT' for single assets
    as_of            date NOT NULL,          -- last day of the backtest window
    method           text NOT NULL CHECK (method IN ('hs', 'fhs', 'mc_heston', 'parametric')),
    horizon_days     smallint NOT NULL CHECK (horizon_days > 0),
    level            double precision NOT NULL CHECK (level > 0 AND level < 1),
    observations     integer NOT NULL CHECK (observations > 0),
    exceptions       integer NOT NULL CHECK (exceptions >= 0),
    kupiec_lr        double precision,       -- proportion-of-failures LR, chi2(1)
    kupiec_p         double precision,
    christoffersen_ind double precision,     -- independence LR, chi2(1)
    christoffersen_cc  double precision,     -- conditional coverage LR, chi2(2)
    christoffersen_cc_p double precision,
    basel_zone       text CHECK (basel_zone IN ('green', 'yellow', 'red')),  -- on the last 250 days
    basel_multiplier double precision,
    window_start     date,
    computed_at      timestamptz NOT NULL DEFAULT now(),  -- the writer stores the end of as_of (UTC)
    PRIMARY KEY (portfolio, as_of, method, horizon_days, level)
);
COMMENT ON TABLE var_backtests IS
    'VaR backtests: exceptions, Kupiec POF, Christoffersen independence/conditional coverage, Basel zone.';

CREATE TABLE stress_results (
    portfolio        text NOT NULL,
    as_of            date NOT NULL,
    scenario_kind    text NOT NULL CHECK (scenario_kind IN ('grid', 'time_decay', 'funding', 'historical')),
    scenario         text NOT NULL,          -- e.g. 'spot-20%/vol+10', 'decay 7d', 'funding +50% APR', '2020-03-12'
    position_id      text NOT NULL,          -- 'TOTAL' = portfolio total
    spot_shock       double precision NOT NULL,   -- relative, decimal (-0.5 = -50 %)
    vol_shock_pts    double precision NOT NULL,   -- vol points (10 = +0.10 decimal IV)
    days_forward     double precision NOT NULL DEFAULT 0,  -- calendar days rolled forward (time decay)
    funding_shock_apr double precision NOT NULL DEFAULT 0, -- added annualised funding rate, decimal
    pnl_usd          double precision NOT NULL,   -- full-revaluation P&L, USD
    pnl_coin         double precision,            -- the same in the position's base coin at shocked spot
    PRIMARY KEY (portfolio, as_of, scenario_kind, scenario, position_id)
);
COMMENT ON TABLE stress_results IS
    'Stress P&L per scenario and position (and TOTAL): spot shock relative, vol shock in points, USD.';

CREATE TABLE expected_returns (
    portfolio         text NOT NULL,
    as_of             date NOT NULL,
    position_id       text NOT NULL,          -- 'TOTAL' = portfolio total
    horizon_days      smallint NOT NULL CHECK (horizon_days > 0),
    carry_usd         double precision NOT NULL,  -- funding (perps) or basis roll-down (futures), USD
    theta_usd         double precision NOT NULL,  -- option time decay over the horizon, USD
    convexity_usd     double precision NOT NULL,  -- 0.5 * dollar-gamma * implied var * h (offsets theta)
    vrp_usd           double precision NOT NULL,  -- 0.5 * dollar-gamma * (forecast var - implied var) * h
    drift_usd         double precision NOT NULL,  -- delta * forecast drift over the horizon, USD
    expected_pnl_usd  double precision NOT NULL,  -- mean P&L under P (simulated, full revaluation)
    residual_usd      double precision NOT NULL,  -- expected_pnl - (carry + theta + convexity + vrp + drift)
    std_p_usd         double precision NOT NULL,  -- P&L std under the physical (forecast) measure
    std_q_usd         double precision NOT NULL,  -- P&L std under the risk-neutral measure (implied vol)
    mean_q_usd        double precision,           -- mean P&L under Q (≈ carry + financing, ~0 for options)
    prob_profit_p     double precision CHECK (prob_profit_p BETWEEN 0 AND 1),
    prob_profit_q     double precision CHECK (prob_profit_q BETWEEN 0 AND 1),
    implied_vol       double precision,           -- decimal; ATM/position IV used under Q
    forecast_vol      double precision,           -- decimal, annualised; used under P
    forecast_drift    double precision,           -- annualised log drift, decimal
    vol_source        text,                       -- 'forecasts:<model>' or 'realised_ewma' (labelled fallback)
    PRIMARY KEY (portfolio, as_of, position_id, horizon_days)
);
COMMENT ON TABLE expected_returns IS
    'Expected P&L per position over horizon_days, decomposed (carry, theta, VRP, drift), USD; P and Q stats.';

CREATE TABLE payoff_curves (
    portfolio    text NOT NULL,
    as_of        date NOT NULL,
    position_id  text NOT NULL,             -- 'TOTAL:<BASE>' = all positions on that underlying
    curve        text NOT NULL CHECK (curve IN ('expiry', 'horizon')),
    point        smallint NOT NULL CHECK (point >= 0),
    spot_usd     double precision NOT NULL CHECK (spot_usd > 0),   -- underlying at the curve's date, USD
    pnl_usd      double precision NOT NULL,                       -- P&L vs entry, USD
    PRIMARY KEY (portfolio, as_of, position_id, curve, point)
);
COMMENT ON TABLE payoff_curves IS
    'Payoff diagram data: P&L (USD) against underlying spot at expiry and at the expected-return horizon.';

GRANT SELECT ON positions, position_greeks, risk_metrics, var_backtests, stress_results, expected_returns,
                payoff_curves
    TO cryptoderiv_readonly;
