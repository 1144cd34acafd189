-- Views the dashboard reads (through cryptoderiv_readonly). The dashboard only ever queries dash_* views:
-- they fix the joins with the instrument catalog and the derived columns (APRs, percentages), so the
-- web tier's SQL stays small and parameterised. Units: timestamps UTC; IV decimal; APR decimal per year
-- (365 days); prices in quote currency (USD/USDT) unless labelled coin.

CREATE VIEW dash_instruments AS
SELECT instrument_id, exchange, symbol, kind, base, quote, settle, is_inverse, contract_size, expiry, strike,
       option_type, funding_interval_hours, active
FROM instruments;
COMMENT ON VIEW dash_instruments IS 'Instrument catalog for the dashboard; expiry UTC.';

-- Candles at three resolutions: raw 1m bars and the 004 rollups (1h, 1d). Same columns each. Readers filter
-- on instrument_id (from dash_instruments): the primary-key index then serves both the range and max(ts).
CREATE VIEW dash_ohlcv_1m AS
SELECT o.instrument_id, i.exchange, i.symbol, i.kind, i.base, o.ts, o.open, o.high, o.low, o.close, o.volume
FROM ohlcv o JOIN instruments i USING (instrument_id)
WHERE o.timeframe = '1m';
COMMENT ON VIEW dash_ohlcv_1m IS '1-minute candles; ts = open time UTC; prices quote currency; volume base units.';

CREATE VIEW dash_ohlcv_1h AS
SELECT o.instrument_id, i.exchange, i.symbol, i.kind, i.base, o.ts, o.open, o.high, o.low, o.close, o.volume
FROM ohlcv_1h o JOIN instruments i USING (instrument_id);
COMMENT ON VIEW dash_ohlcv_1h IS 'Hourly candles rolled up from 1m bars; ts = bucket open UTC.';

CREATE VIEW dash_ohlcv_1d AS
SELECT o.instrument_id, i.exchange, i.symbol, i.kind, i.base, o.ts, o.open, o.high, o.low, o.close, o.volume
FROM ohlcv_1d o JOIN instruments i USING (instrument_id);
COMMENT ON VIEW dash_ohlcv_1d IS 'Daily candles rolled up from 1m bars; ts = bucket open UTC.';

CREATE VIEW dash_funding AS
SELECT i.exchange, i.symbol, i.base, f.ts, f.rate, f.interval_hours,
       f.rate * 24.0 * 365.0 / f.interval_hours AS funding_apr
FROM funding_rates f JOIN instruments i USING (instrument_id);
COMMENT ON VIEW dash_funding IS 'Funding per venue: rate decimal per interval, funding_apr decimal per year.';

CREATE VIEW dash_basis AS
SELECT i.exchange, i.symbol, i.kind, i.base, i.expiry, q.ts, q.mark_price, q.index_price, q.bid, q.ask,
       q.basis, q.basis / q.index_price AS basis_pct, q.basis_apr
FROM futures_quotes q JOIN instruments i USING (instrument_id);
COMMENT ON VIEW dash_basis IS 'Futures basis: basis USD (mark - index), basis_pct decimal, basis_apr decimal/yr.';

CREATE VIEW dash_open_interest AS
SELECT i.exchange, i.symbol, i.kind, i.base, i.expiry, o.ts, o.oi_contracts, o.oi_base, o.oi_usd
FROM open_interest o JOIN instruments i USING (instrument_id);
COMMENT ON VIEW dash_open_interest IS 'Open interest: contracts, base coin and USD.';

-- One row per option quote with the venue's IVs, ours (020) and the contract terms.
CREATE VIEW dash_option_chain AS
SELECT i.exchange, i.base, i.symbol, i.expiry, i.strike, i.option_type, i.is_inverse, q.ts,
       q.premium_currency, q.bid, q.ask, q.mark, q.mark_usd, q.bid_iv, q.ask_iv, q.mark_iv,
       q.delta, q.gamma, q.vega, q.theta, q.underlying_price, q.index_price, q.time_to_expiry,
       q.open_interest, q.volume,
       g.forward, g.log_moneyness, g.iv_bid AS our_iv_bid, g.iv_ask AS our_iv_ask, g.iv_mid AS our_iv_mid,
       g.iv_mark AS our_iv_mark, g.gamma AS our_gamma, g.delta AS our_delta
FROM option_quotes q
JOIN instruments i USING (instrument_id)
LEFT JOIN option_greeks g ON g.instrument_id = q.instrument_id AND g.ts = q.ts;
COMMENT ON VIEW dash_option_chain IS
    'Option quotes with contract terms and our Black-76 IVs/greeks; IV decimal, premiums in premium_currency.';

CREATE VIEW dash_vol_surfaces AS
SELECT exchange, base, ts, expiry, time_to_expiry, forward, index_price, svi_a, svi_b, svi_rho, svi_m, svi_sigma,
       rmse_total_variance, n_points, min_g, k_min, k_max, atm_iv, iv_25d_call, iv_25d_put, rr_25d, bf_25d,
       fair_variance
FROM vol_surfaces;
COMMENT ON VIEW dash_vol_surfaces IS 'SVI slices per snapshot and expiry (total variance in k = ln K/F).';

CREATE VIEW dash_vol_surface_metrics AS
SELECT exchange, base, ts, n_expiries, atm_iv_7d, atm_iv_30d, atm_iv_60d, atm_iv_90d, rr_25d_30d, bf_25d_30d,
       variance_index_30d
FROM vol_surface_metrics;
COMMENT ON VIEW dash_vol_surface_metrics IS 'Constant-maturity surface metrics per snapshot; decimals.';

CREATE VIEW dash_market_features AS
SELECT m.exchange, i.symbol, m.base, m.kind, m.timeframe, m.ts, m.close, m.rv_cc_24, m.rv_yz_24, m.rv_cc_168,
       m.funding_apr, m.basis, m.basis_apr, m.oi_usd, m.cross_venue_spread_bp
FROM market_features m JOIN instruments i USING (instrument_id);
COMMENT ON VIEW dash_market_features IS 'Per-bar market features (realised vols annualised decimals).';

-- Data quality: the latest gated batch per table, every result of it, and quarantine counts (no rows).
CREATE VIEW dash_dq_latest AS
SELECT r.table_name, r.run_id, r.rule, r.dimension, r.severity, r.success, r.element_count,
       r.unexpected_count, r.unexpected_percent, r.rows_quarantined, r.exception, r.window_start,
       r.window_end, r.checked_at, r.data_docs_path
FROM dq_results r
JOIN (SELECT DISTINCT ON (table_name) table_name, run_id
      FROM dq_results ORDER BY table_name, checked_at DESC, run_id DESC) latest USING (table_name, run_id);
COMMENT ON VIEW dash_dq_latest IS 'Every expectation result of the most recent gated batch of each table.';

CREATE VIEW dash_dq_runs AS
SELECT table_name, run_id, max(checked_at) AS checked_at,
       count(*) AS n_rules, count(*) FILTER (WHERE NOT success) AS n_failed,
       count(*) FILTER (WHERE NOT success AND severity = 'hard') AS n_hard_failed,
       sum(rows_quarantined) AS rows_quarantined, max(data_docs_path) AS data_docs_path
FROM dq_results
GROUP BY table_name, run_id;
COMMENT ON VIEW dash_dq_runs IS 'One row per gated batch: rule counts and rows quarantined.';

CREATE VIEW dash_quarantine_counts AS
SELECT table_name, rule, count(*) AS rows_quarantined, max(quarantined_at) AS last_quarantined_at,
       min(reason) AS reason
FROM quarantine
GROUP BY table_name, rule;
COMMENT ON VIEW dash_quarantine_counts IS 'Quarantined rows per table and rule (counts only, never the rows).';

GRANT SELECT ON dash_instruments, dash_ohlcv_1m, dash_ohlcv_1h, dash_ohlcv_1d, dash_funding, dash_basis,
                dash_open_interest, dash_option_chain, dash_vol_surfaces, dash_vol_surface_metrics,
                dash_market_features, dash_dq_latest, dash_dq_runs, dash_quarantine_counts
    TO cryptoderiv_readonly;
