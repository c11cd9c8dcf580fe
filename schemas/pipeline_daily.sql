-- pipeline_daily
-- Per UTC day, project and default_branch: pipeline count and PERCENTILE_CONT (linear) percentiles.
-- Files: under <warehouse>/pipeline_daily/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE pipeline_daily (
    project VARCHAR,  -- project path
    default_branch BOOLEAN,  -- ref IN ('master', 'main')
    pipelines BIGINT,  -- pipelines created that day
    to_e2e_p50 DOUBLE,  -- median of duration - duration_e2e (pipeline start to e2e start), seconds
    to_e2e_p80 DOUBLE,  -- 80th percentile of duration - duration_e2e
    to_e2e_p95 DOUBLE,  -- 95th percentile of duration - duration_e2e
    e2e_p50 DOUBLE,  -- median of duration_e2e over pipelines without restarts; NULL when none
    e2e_p80 DOUBLE,  -- 80th percentile of duration_e2e without restarts
    e2e_p95 DOUBLE,  -- 95th percentile of duration_e2e without restarts
    duration_p50 DOUBLE,  -- median of duration
    duration_p80 DOUBLE,  -- 80th percentile of duration
    duration_p95 DOUBLE,  -- 95th percentile of duration
    restart_rate DOUBLE,  -- share of pipelines with has_restarts
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
