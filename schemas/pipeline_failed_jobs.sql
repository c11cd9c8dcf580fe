-- pipeline_failed_jobs
-- One row per entry of jobs_failed (a failed attempt of a job) of a pipeline in `pipelines`, in the order sent; partitioned like its pipeline.
-- Files: under <warehouse>/pipeline_failed_jobs/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE pipeline_failed_jobs (
    pipeline_id BIGINT,  -- the pipeline the attempt belongs to
    name VARCHAR,  -- job name (NULL when the sender gave none)
    started_at TIMESTAMP,  -- attempt start, UTC (newer senders only)
    finished_at TIMESTAMP,  -- attempt end, UTC (newer senders only)
    duration BIGINT,  -- attempt seconds (NULL when not sent)
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
