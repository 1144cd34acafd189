-- The dashboard reads through this group role: SELECT on published tables and views, nothing else.
-- Login roles (the dashboard's) are made members of it by `cryptoderiv db migrate`, which takes their
-- password from the settings; later migrations GRANT SELECT on the tables they publish.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cryptoderiv_readonly') THEN
        CREATE ROLE cryptoderiv_readonly NOLOGIN;
    END IF;
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO cryptoderiv_readonly', current_database());
END
$$;
GRANT USAGE ON SCHEMA public TO cryptoderiv_readonly;
GRANT SELECT ON instruments, ohlcv, trades, funding_rates, open_interest, futures_quotes, option_quotes,
                ohlcv_1h, ohlcv_1d
    TO cryptoderiv_readonly;
