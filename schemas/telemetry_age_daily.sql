-- telemetry_age_daily
-- Per day: the age histogram of all systems that checked in.
-- Files: under <warehouse>/telemetry_age_daily/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE telemetry_age_daily (
    age_days BIGINT,  -- days since the system was first seen
    systems BIGINT,  -- systems of that age that checked in that day
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
