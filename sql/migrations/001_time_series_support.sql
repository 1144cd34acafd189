-- Time-series storage that works with or without TimescaleDB.
--
-- cd_create_time_table() is the one place where the two storage branches differ:
--   * TimescaleDB present: a hypertable with a compression policy;
--   * plain PostgreSQL: a native range-partitioned table with a default partition; partitions are
--     created ahead by cd_ensure_partitions(), which the storage writer calls for each batch's window
--     and the maintenance job calls for the days ahead.
-- Migrations create every time-series table through it, so the two branches stay small and parallel.

CREATE OR REPLACE FUNCTION cd_timescale_available() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
    END IF;
END
$$;

-- Registry of native partitioned tables and their partition width.
CREATE TABLE cd_time_tables (
    table_name      text PRIMARY KEY,
    time_column     text NOT NULL,
    partition_width interval NOT NULL
);

-- Lower bound of the partition holding ts: calendar months for month-based widths, else fixed-width
-- bins anchored on Monday 2000-01-03 (so weekly partitions start on Mondays).
CREATE OR REPLACE FUNCTION cd_partition_floor(ts timestamptz, width interval) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN extract(month FROM width) > 0 OR extract(year FROM width) > 0
            THEN date_trunc('month', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        ELSE date_bin(width, ts, timestamptz '2000-01-03 00:00:00+00')
    END
$$;

-- Create the partitions of tbl covering [from_ts, to_ts]. Idempotent. Rows already sitting in the
-- default partition for a new range are moved into the new partition before it is attached.
CREATE OR REPLACE FUNCTION cd_ensure_partitions(tbl text, from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    spec       cd_time_tables%ROWTYPE;
    lower_b    timestamptz;
    upper_b    timestamptz;
    part_name  text;
    created    integer := 0;
BEGIN
    IF cd_timescale_available() THEN
        RETURN 0;  -- hypertables create their chunks themselves
    END IF;
    SELECT * INTO spec FROM cd_time_tables WHERE table_name = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'cd_ensure_partitions: % is not a registered time-series table', tbl;
    END IF;
    IF to_ts < from_ts THEN
        RAISE EXCEPTION 'cd_ensure_partitions: window [%, %] is reversed', from_ts, to_ts;
    END IF;
    lower_b := cd_partition_floor(from_ts, spec.partition_width);
    WHILE lower_b <= to_ts LOOP
        upper_b := lower_b + spec.partition_width;
        part_name := format('%s_p%s', tbl, to_char(lower_b AT TIME ZONE 'UTC', 'YYYYMMDD'));
        IF to_regclass(part_name) IS NULL THEN
            -- Serialise concurrent creators of the same partition.
            PERFORM pg_advisory_xact_lock(hashtext(part_name));
            IF to_regclass(part_name) IS NULL THEN
                EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                               part_name, tbl);
                EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) '
                               'INSERT INTO %I SELECT * FROM moved',
                               tbl || '_default', spec.time_column, spec.time_column, part_name)
                    USING lower_b, upper_b;
                EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                               tbl, part_name, lower_b, upper_b);
                created := created + 1;
            END IF;
        END IF;
        lower_b := upper_b;
    END LOOP;
    RETURN created;
END
$$;

-- Create a time-series table from its column list. The primary key must include time_col.
CREATE OR REPLACE FUNCTION cd_create_time_table(tbl text, columns_ddl text, time_col text, width interval)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cd_timescale_available() THEN
        EXECUTE format('CREATE TABLE %I (%s)', tbl, columns_ddl);
        PERFORM create_hypertable(tbl::regclass, by_range(time_col, width));
        EXECUTE format('ALTER TABLE %I SET (timescaledb.compress)', tbl);
        PERFORM add_compression_policy(tbl::regclass, compress_after => width * 2);
    ELSE
        EXECUTE format('CREATE TABLE %I (%s) PARTITION BY RANGE (%I)', tbl, columns_ddl, time_col);
        EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', tbl || '_default', tbl);
        INSERT INTO cd_time_tables (table_name, time_column, partition_width) VALUES (tbl, time_col, width);
    END IF;
END
$$;
