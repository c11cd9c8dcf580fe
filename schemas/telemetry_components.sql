-- telemetry_components
-- One row per installed component of a check-in in telemetry_checkins; partitioned like it.
-- Files: under <warehouse>/telemetry_components/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE telemetry_components (
    system_id VARCHAR,  -- the installation's UUID
    name VARCHAR,  -- component (plugin) label
    version VARCHAR,  -- version as sent
    age_days BIGINT,  -- the check-in's age_days, so that summaries over persistent systems need no join
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
