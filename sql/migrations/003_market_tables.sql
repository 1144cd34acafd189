-- Core market tables. Every time column is UTC timestamptz; every primary key is natural, so a load
-- upserts and re-running a window leaves the same rows.
--
-- instrument_id is a soft reference: a per-row FOREIGN KEY trigger halves the bulk-load rate, so the
-- storage writer (the only way rows get in) checks the ids of a whole batch against instruments at once.
-- The reference is declared with a column comment of the form 'references TABLE(COLUMN)', which the
-- writer reads from the catalog; instruments are never deleted (delisting sets active = false).

SELECT cd_create_time_table('ohlcv', $ddl$
    instrument_id integer NOT NULL,   -- references instruments (enforced by the writer)
    timeframe     text NOT NULL CHECK (timeframe IN ('1m', '5m', '15m', '1h', '4h', '1d', '1w')),
    ts            timestamptz NOT NULL,          -- candle open time, UTC
    open          double precision NOT NULL CHECK (open > 0),
    high          double precision NOT NULL CHECK (high > 0),
    low           double precision NOT NULL CHECK (low > 0),
    close         double precision NOT NULL CHECK (close > 0),
    volume        double precision NOT NULL CHECK (volume >= 0),   -- base-currency units (coin, also for inverse)
    PRIMARY KEY (instrument_id, timeframe, ts)
$ddl$, 'ts', interval '1 month');
COMMENT ON TABLE ohlcv IS 'Candles; ts is the UTC open time; prices in quote currency; volume in base units.';

SELECT cd_create_time_table('trades', $ddl$
    instrument_id integer NOT NULL,   -- references instruments (enforced by the writer)
    trade_id      text NOT NULL,                 -- the venue's id, unique per instrument
    ts            timestamptz NOT NULL,
    price         double precision NOT NULL CHECK (price > 0),
    amount        double precision NOT NULL CHECK (amount > 0),   -- base-currency units (coin, also for inverse)
    side          text CHECK (side IN ('buy', 'sell')),           -- taker side
    PRIMARY KEY (instrument_id, ts, trade_id)
$ddl$, 'ts', interval '7 days');

SELECT cd_create_time_table('funding_rates', $ddl$
    instrument_id  integer NOT NULL,  -- references instruments (enforced by the writer)
    ts             timestamptz NOT NULL,         -- funding time, UTC
    rate           double precision NOT NULL,    -- decimal per interval (0.0001 = 1 bp per interval)
    interval_hours smallint NOT NULL CHECK (interval_hours > 0),
    PRIMARY KEY (instrument_id, ts)
$ddl$, 'ts', interval '1 month');
COMMENT ON COLUMN funding_rates.rate IS 'Decimal per funding interval; APR = rate * 24 * 365 / interval_hours.';

SELECT cd_create_time_table('open_interest', $ddl$
    instrument_id   integer NOT NULL, -- references instruments (enforced by the writer)
    ts              timestamptz NOT NULL,
    oi_contracts    double precision CHECK (oi_contracts >= 0),
    oi_base         double precision CHECK (oi_base >= 0),     -- in base coin
    oi_usd          double precision CHECK (oi_usd >= 0),
    PRIMARY KEY (instrument_id, ts)
$ddl$, 'ts', interval '1 month');

SELECT cd_create_time_table('futures_quotes', $ddl$
    instrument_id integer NOT NULL,   -- references instruments (enforced by the writer)
    ts            timestamptz NOT NULL,
    mark_price    double precision NOT NULL CHECK (mark_price > 0),
    index_price   double precision NOT NULL CHECK (index_price > 0),
    bid           double precision CHECK (bid > 0),
    ask           double precision CHECK (ask > 0),
    basis         double precision NOT NULL,     -- mark - index, quote currency
    basis_apr     double precision,              -- basis / index * 365 / days to expiry; NULL for perpetuals
    PRIMARY KEY (instrument_id, ts)
$ddl$, 'ts', interval '1 month');

SELECT cd_create_time_table('option_quotes', $ddl$
    instrument_id    integer NOT NULL, -- references instruments (enforced by the writer)
    ts               timestamptz NOT NULL,       -- snapshot time, UTC
    premium_currency text NOT NULL,              -- currency of bid/ask/mark: base coin for inverse options
    bid              double precision CHECK (bid >= 0),
    ask              double precision CHECK (ask > 0),
    mark             double precision NOT NULL CHECK (mark >= 0),
    bid_usd          double precision CHECK (bid_usd >= 0),
    ask_usd          double precision CHECK (ask_usd > 0),
    mark_usd         double precision NOT NULL CHECK (mark_usd >= 0),
    bid_iv           double precision CHECK (bid_iv >= 0),     -- decimal (0.55 = 55 %)
    ask_iv           double precision CHECK (ask_iv > 0),
    mark_iv          double precision CHECK (mark_iv > 0),
    delta            double precision,           -- exchange greeks, as the venue reports them
    gamma            double precision,
    vega             double precision,
    theta            double precision,
    underlying_price double precision NOT NULL CHECK (underlying_price > 0),  -- per-expiry forward
    index_price      double precision NOT NULL CHECK (index_price > 0),
    time_to_expiry   double precision NOT NULL CHECK (time_to_expiry > 0),    -- ACT/365 years
    open_interest    double precision CHECK (open_interest >= 0),             -- contracts
    volume           double precision CHECK (volume >= 0),                    -- contracts, 24 h
    PRIMARY KEY (instrument_id, ts),
    CHECK (bid IS NULL OR ask IS NULL OR bid <= ask)
$ddl$, 'ts', interval '7 days');
COMMENT ON TABLE option_quotes IS
    'Option chain snapshots: premiums in premium_currency (coin for inverse) and USD; IV decimal; ACT/365.';

DO $$
DECLARE
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['ohlcv', 'trades', 'funding_rates', 'open_interest', 'futures_quotes', 'option_quotes']
    LOOP
        EXECUTE format('COMMENT ON COLUMN %I.instrument_id IS %L', tbl, 'references instruments(instrument_id)');
    END LOOP;
END
$$;
