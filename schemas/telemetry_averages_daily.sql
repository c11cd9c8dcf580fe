-- telemetry_averages_daily
-- Per day, over persistent systems: averages of workers and content apps (unset fields left out, not counted as 0).
-- Files: under <warehouse>/telemetry_averages_daily/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE telemetry_averages_daily (
    persistent_systems BIGINT,  -- persistent systems that checked in
    avg_workers_processes DOUBLE,  -- average online worker processes
    avg_workers_hosts DOUBLE,  -- average hosts running workers
    avg_content_apps_processes DOUBLE,  -- average online content app processes
    avg_content_apps_hosts DOUBLE,  -- average hosts running content apps
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
