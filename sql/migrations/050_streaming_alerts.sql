-- Live streaming (cryptoderiv.streaming) and alerts (cryptoderiv.alerts).
--
-- ticks: what the sidecar receives over the venues' WebSockets (tickers, top of book, Deribit option
-- tickers with mark IV and greeks), one row per (instrument, venue timestamp, source). Trades go to the
-- existing `trades` table (003), keyed by (instrument_id, ts, trade_id). Both are written by the storage
-- writer's idempotent upsert, so a replayed spool file or a REST backfill overlapping the stream never
-- duplicates a row.
--
-- alerts: every alert fired (market rules on the live stream, data-quality and pipeline failures), one row
-- per firing; dedup_key + cool-down decide whether a condition fires again. alert_rules: rules kept in
-- the database (rules may also come from a YAML file).

SELECT cd_create_time_table('ticks', $ddl$
    instrument_id    integer NOT NULL,            -- references instruments (enforced by the writer)
    ts               timestamptz NOT NULL,        -- venue event time, UTC
    source           text NOT NULL CHECK (source IN ('ticker', 'book', 'option')),
    bid              double precision CHECK (bid > 0),          -- quote currency (coin for inverse options)
    bid_size         double precision CHECK (bid_size >= 0),    -- as the venue reports it
    ask              double precision CHECK (ask > 0),
    ask_size         double precision CHECK (ask_size >= 0),
    last             double precision CHECK (last > 0),
    mark_price       double precision CHECK (mark_price >= 0),  -- options: coin for Deribit (inverse)
    index_price      double precision CHECK (index_price > 0),  -- USD per coin
    underlying_price double precision CHECK (underlying_price > 0),  -- options: per-expiry forward, USD
    mark_iv          double precision CHECK (mark_iv >= 0),     -- decimal (0.55 = 55 %)
    delta            double precision,            -- venue greeks, as reported
    gamma            double precision,
    vega             double precision,
    theta            double precision,
    funding_rate     double precision,            -- perpetuals: current rate, decimal per funding interval
    PRIMARY KEY (instrument_id, ts, source),
    CHECK (bid IS NULL OR ask IS NULL OR bid <= ask)
$ddl$, 'ts', interval '1 day');
COMMENT ON TABLE ticks IS
    'Live ticks from the streaming sidecar: top of book, last, mark/index, option mark IV (decimal) and greeks; UTC.';
COMMENT ON COLUMN ticks.instrument_id IS 'references instruments(instrument_id)';
COMMENT ON COLUMN ticks.source IS 'ticker: venue ticker channel; book: best bid/ask channel; option: option ticker';
COMMENT ON COLUMN ticks.mark_iv IS 'Decimal; Deribit publishes percent, divided by 100 on the way in.';
COMMENT ON COLUMN ticks.funding_rate IS 'Decimal per funding interval (Deribit: current_funding).';

CREATE TABLE alert_rules (
    name          text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('price_move', 'iv_spike', 'skew_flip', 'funding_above',
                                                'basis_inversion', 'dq_failure', 'pipeline_failure')),
    enabled       boolean NOT NULL DEFAULT true,
    severity      text NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
    params        jsonb NOT NULL DEFAULT '{}'::jsonb,   -- kind-specific: venue, symbol, window_s, threshold, ...
    cooldown_s    integer NOT NULL DEFAULT 300 CHECK (cooldown_s >= 0),   -- seconds
    channels      text[] NOT NULL DEFAULT ARRAY['dashboard']::text[]
                  CHECK (channels <@ ARRAY['dashboard', 'email', 'webhook']::text[]),
    recipients    text,                                 -- comma-separated e-mail addresses
    webhook_url   text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE alert_rules IS 'Alert rules kept in the database (cryptoderiv.alerts); params are kind-specific.';

CREATE TABLE alerts (
    alert_id      bigint GENERATED ALWAYS AS IDENTITY,
    rule_name     text NOT NULL,
    kind          text NOT NULL,
    severity      text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    subject       text NOT NULL,                        -- e.g. 'binance:BTC/USDT', 'deribit:BTC:2026-12-25', a DAG id
    dedup_key     text NOT NULL,                        -- rule + subject: one open condition
    fired_at      timestamptz NOT NULL,                 -- UTC
    message       text NOT NULL,
    value         double precision,                     -- the observed figure (decimal for IVs and rates)
    threshold     double precision,
    payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
    channels      text[] NOT NULL DEFAULT ARRAY[]::text[],   -- where it was sent
    PRIMARY KEY (alert_id),
    UNIQUE (dedup_key, fired_at)
);
COMMENT ON TABLE alerts IS 'Every alert fired (live market rules, data quality, pipeline failures); UTC.';
CREATE INDEX alerts_recent_idx ON alerts (fired_at DESC);
CREATE INDEX alerts_dedup_idx ON alerts (dedup_key, fired_at DESC);

GRANT SELECT ON ticks, alerts, alert_rules TO cryptoderiv_readonly;
