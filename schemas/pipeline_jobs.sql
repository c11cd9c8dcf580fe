-- pipeline_jobs
-- One row per job of a pipeline in `pipelines`; partitioned like its pipeline.
-- Files: under <warehouse>/pipeline_jobs/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE pipeline_jobs (
    pipeline_id BIGINT,  -- the pipeline the job belongs to
    name VARCHAR,  -- job name
    started_at TIMESTAMP,  -- job start, UTC
    finished_at TIMESTAMP,  -- job end, UTC
    duration BIGINT,  -- job seconds
    up BIGINT,  -- seconds to bring the environment up (NULL when not sent)
    e2e BIGINT,  -- seconds of e2e tests (NULL when not sent)
    pull BIGINT,  -- seconds pulling images (NULL when not sent)
    up_without_pull BIGINT,  -- up minus pull (NULL when not sent)
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
