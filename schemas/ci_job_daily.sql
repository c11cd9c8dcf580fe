-- ci_job_daily
-- Per date, repo and job name: the job's attempts that finished that day, failures, run and queue time percentiles, and flakes (an attempt failed and a later attempt of the same run and sha passed, counted the day it passed); partitioned by date.
-- Files: under <warehouse>/ci_job_daily/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE ci_job_daily (
    repo VARCHAR,  -- owner/name
    job VARCHAR,  -- job name
    runs BIGINT,  -- the job's attempts that finished that day (skipped not counted)
    failed BIGINT,  -- of those, failure, timed_out or startup_failure
    run_p50_s DOUBLE,  -- PERCENTILE_CONT 0.5 of run_s
    run_p95_s DOUBLE,  -- the same at 0.95
    queue_p50_s DOUBLE,  -- PERCENTILE_CONT 0.5 of queue_s
    queue_p95_s DOUBLE,  -- the same at 0.95
    flaky_runs BIGINT,  -- runs in which the job passed that day after a failed attempt of the same run and sha
    flake_rate DOUBLE,  -- flaky_runs / runs
    failed_attempt_s DOUBLE,  -- run time spent in the failed attempts of those flaky runs
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
