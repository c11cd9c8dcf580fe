-- telemetry_versions_daily
-- Per day and component, over persistent systems: systems per X.Y version (xy) and per full version (xyz).
-- Files: under <warehouse>/telemetry_versions_daily/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE telemetry_versions_daily (
    component VARCHAR,  -- component (plugin) label
    granularity VARCHAR,  -- xy (major.minor) or xyz (the version as sent)
    version VARCHAR,  -- the version at that granularity
    systems BIGINT,  -- persistent systems running it
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
