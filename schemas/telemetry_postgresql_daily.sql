-- telemetry_postgresql_daily
-- Per day, over persistent systems: systems per PostgreSQL server_version_num.
-- Files: under <warehouse>/telemetry_postgresql_daily/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE telemetry_postgresql_daily (
    postgresql_version BIGINT,  -- server_version_num; 0 when the check-in did not say
    display VARCHAR,  -- as people read it: 15.4, 9.6.24, or Unknown
    systems BIGINT,  -- persistent systems running it
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
