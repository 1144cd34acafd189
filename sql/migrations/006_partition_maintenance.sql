-- Retention and routine maintenance of time-series tables, parallel in both branches.
--   TimescaleDB: add_retention_policy() drops old chunks on its own schedule.
--   Plain PostgreSQL: cd_maintain_time_tables() (run daily by the pipeline, or `cryptoderiv db maintain`)
--   creates the partitions ahead and drops the partitions wholly older than the retention.

ALTER TABLE cd_time_tables ADD COLUMN retention interval;  -- NULL: keep everything

CREATE OR REPLACE FUNCTION cd_set_retention(tbl text, keep interval) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cd_timescale_available() THEN
        PERFORM remove_retention_policy(tbl::regclass, if_exists => true);
        IF keep IS NOT NULL THEN
            PERFORM add_retention_policy(tbl::regclass, drop_after => keep);
        END IF;
    ELSE
        UPDATE cd_time_tables SET retention = keep WHERE table_name = tbl;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'cd_set_retention: % is not a registered time-series table', tbl;
        END IF;
    END IF;
END
$$;

-- Create partitions up to now() + ahead for every table; drop partitions that ended before
-- now() - retention. Returns one row per table with what it did. Idempotent.
CREATE OR REPLACE FUNCTION cd_maintain_time_tables(ahead interval DEFAULT interval '35 days')
RETURNS TABLE (table_name text, partitions_created integer, partitions_dropped integer)
LANGUAGE plpgsql AS $$
DECLARE
    spec  record;
    part  record;
    bound timestamptz;
BEGIN
    IF cd_timescale_available() THEN
        RETURN;  -- chunks and retention are TimescaleDB's own jobs
    END IF;
    FOR spec IN SELECT * FROM cd_time_tables t ORDER BY t.table_name LOOP
        table_name := spec.table_name;
        partitions_created := cd_ensure_partitions(spec.table_name, now(), now() + ahead);
        partitions_dropped := 0;
        IF spec.retention IS NOT NULL THEN
            FOR part IN
                SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound_expr
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = spec.table_name::regclass AND NOT c.relname LIKE '%\_default'
            LOOP
                -- "FOR VALUES FROM ('...') TO ('...')": the upper bound is the second literal.
                bound := substring(part.bound_expr FROM 'TO \(''([^'']+)''\)')::timestamptz;
                IF bound <= now() - spec.retention THEN
                    EXECUTE format('DROP TABLE %I', part.relname);
                    partitions_dropped := partitions_dropped + 1;
                END IF;
            END LOOP;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Raw trades are the largest table and are rebuilt into candles: keep two years of them.
SELECT cd_set_retention('trades', interval '730 days');
