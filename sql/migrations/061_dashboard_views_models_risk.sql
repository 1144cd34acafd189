-- Dashboard views over the model, risk and alert tables (030 model_runs/heston_params, 031 forecasts,
-- 040 risk layer, 050 alerts). Same rules as 060: the dashboard reads dash_* only, through cryptoderiv_readonly.

CREATE VIEW dash_model_runs AS
SELECT run_id, kind, exchange, underlying, snapshot_ts, status, message, n_quotes, n_expiries,
       (metrics ->> 'rmse_iv')::double precision AS rmse_iv,
       (metrics ->> 'within_spread')::double precision AS within_spread,
       mlflow_run_id, mlflow_experiment_id, wall_time_s, started_at
FROM model_runs;
COMMENT ON VIEW dash_model_runs IS 'Model runs with their MLflow run ids; rmse_iv vol decimal, within_spread 0..1.';

CREATE VIEW dash_heston_params AS
SELECT h.exchange, h.underlying, h.snapshot_ts, h.status, h.is_current, h.v0, h.kappa, h.theta, h.sigma, h.rho,
       h.feller_ratio, h.feller_satisfied, h.rmse_iv, h.within_spread, h.n_quotes, h.run_id,
       r.mlflow_run_id, r.mlflow_experiment_id
FROM heston_params h JOIN model_runs r USING (run_id);
COMMENT ON VIEW dash_heston_params IS
    'Heston parameters per venue/underlying/snapshot (v0, theta annual variance; kappa 1/yr; sigma 1/sqrt(yr)).';

CREATE VIEW dash_positions AS
SELECT portfolio, position_id, exchange, symbol, kind, base, is_inverse, option_type, strike, expiry, size,
       size_unit, quantity_coin, entry_price, entry_price_unit
FROM positions;
COMMENT ON VIEW dash_positions IS 'Portfolio positions: signed size in size_unit; entry price in usd or coin.';

CREATE VIEW dash_position_greeks AS
SELECT portfolio, as_of, position_id, base, spot_usd, value_usd, delta_coin, delta_usd, gamma_usd, vega_usd,
       theta_usd, vanna_usd, volga_usd, btc_beta_delta_usd
FROM position_greeks;
COMMENT ON VIEW dash_position_greeks IS 'Greeks per position and TOTAL: USD; vega per vol point, theta per day.';

-- VaR/ES with the next day's change of the portfolio value: a 1-day VaR exception is a loss beyond VaR.
CREATE VIEW dash_risk_metrics AS
SELECT m.portfolio, m.as_of, m.method, m.horizon_days, m.level, m.var_usd, m.es_usd, m.portfolio_value_usd,
       m.is_comparison,
       lead(m.portfolio_value_usd) OVER w - m.portfolio_value_usd AS next_pnl_usd,
       (m.horizon_days = 1 AND lead(m.portfolio_value_usd) OVER w - m.portfolio_value_usd < -m.var_usd) AS is_exception
FROM risk_metrics m
WINDOW w AS (PARTITION BY m.portfolio, m.method, m.horizon_days, m.level ORDER BY m.as_of);
COMMENT ON VIEW dash_risk_metrics IS
    'VaR/ES (USD, loss > 0) with the next-day value change; is_exception = 1-day loss beyond VaR.';

CREATE VIEW dash_var_backtests AS
SELECT portfolio, as_of, method, horizon_days, level, observations, exceptions, kupiec_p, christoffersen_cc_p,
       basel_zone
FROM var_backtests;

CREATE VIEW dash_stress AS
SELECT portfolio, as_of, scenario_kind, scenario, spot_shock, vol_shock_pts, days_forward, pnl_usd
FROM stress_results
WHERE position_id = 'TOTAL';
COMMENT ON VIEW dash_stress IS 'Portfolio stress P&L (USD): spot shock relative decimal, vol shock in points.';

CREATE VIEW dash_expected_returns AS
SELECT portfolio, as_of, position_id, horizon_days, carry_usd, theta_usd, convexity_usd, vrp_usd, drift_usd,
       expected_pnl_usd, residual_usd, std_p_usd, prob_profit_p, prob_profit_q, vol_source
FROM expected_returns;
COMMENT ON VIEW dash_expected_returns IS 'Expected P&L per position over horizon_days, decomposed, USD.';

CREATE VIEW dash_payoff_curves AS
SELECT portfolio, as_of, position_id, curve, point, spot_usd, pnl_usd
FROM payoff_curves;
COMMENT ON VIEW dash_payoff_curves IS 'Payoff diagram: P&L (USD) against spot at expiry / at the horizon.';

CREATE VIEW dash_alerts AS
SELECT alert_id, rule_name, kind, severity, subject, fired_at, message, value, threshold
FROM alerts;
COMMENT ON VIEW dash_alerts IS 'Alerts fired (UTC); value/threshold decimals for IVs and rates.';

GRANT SELECT ON dash_model_runs, dash_heston_params, dash_positions, dash_position_greeks, dash_risk_metrics,
                dash_var_backtests, dash_stress, dash_expected_returns, dash_payoff_curves, dash_alerts
    TO cryptoderiv_readonly;

-- Champion volatility forecasts (variance targets) with what was realised over their horizon: realised
-- daily variance = sum of squared hourly log returns (ln close/open of the 1h rollup) / horizon days,
-- annualised on 365 days; NULL until every hour of the horizon has a bar.
CREATE VIEW dash_forecasts AS
SELECT f.exchange, f.symbol, i.base, f.target, f.horizon, f.as_of AS ts, f.model_kind AS model, f.model_name,
       f.model_version, f.mlflow_run_id, true AS is_champion, f.vol_annualised AS forecast,
       CASE WHEN r.n_bars >= 24 * f.horizon THEN sqrt(365.0 * r.sum_sq / f.horizon) END AS realised
FROM forecasts f
JOIN instruments i ON i.exchange = f.exchange AND i.symbol = f.symbol
LEFT JOIN LATERAL (
    SELECT sum(ln(h.close / h.open) ^ 2) AS sum_sq, count(*) AS n_bars
    FROM ohlcv_1h h
    WHERE h.instrument_id = i.instrument_id AND h.ts >= f.as_of AND h.ts < f.as_of + make_interval(days => f.horizon)
) r ON true
WHERE f.target LIKE 'rv%' AND f.vol_annualised IS NOT NULL;
COMMENT ON VIEW dash_forecasts IS
    'Champion vol forecasts (annualised decimal) vs realised over the horizon (hourly returns, 365 days).';

-- Baselines: the latest walk-forward evaluation of every model per target (whole window, fold -1).
CREATE VIEW dash_forecast_evaluations AS
SELECT e.target, e.series, e.model_kind, e.model_name, e.trained_at, e.n, e.qlike, e.mse, e.r2_vs_no_change,
       e.dm_stat, e.dm_p_value, e.mlflow_run_id
FROM forecast_evaluations e
WHERE e.fold = -1
  AND e.trained_at = (SELECT max(trained_at) FROM forecast_evaluations x WHERE x.target = e.target);
COMMENT ON VIEW dash_forecast_evaluations IS 'Latest walk-forward metrics per model and target (QLIKE, MSE, R2 vs no-change).';

GRANT SELECT ON dash_forecasts, dash_forecast_evaluations TO cryptoderiv_readonly;
