-- pipelines
-- One row per CI pipeline (first delivery of each pipeline_id); partitioned by the UTC day of created_at.
-- Files: under <warehouse>/pipelines/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE pipelines (
    pipeline_id BIGINT,  -- pipeline id, unique per CI instance: the dedup key
    project VARCHAR,  -- project path, e.g. group/service
    ref VARCHAR,  -- branch or tag the pipeline ran on
    default_branch BOOLEAN,  -- ref IN ('master', 'main')
    created_at TIMESTAMP,  -- pipeline creation time, UTC
    duration BIGINT,  -- seconds from creation to the end of the last e2e job
    duration_e2e BIGINT,  -- seconds of e2e execution
    build BIGINT,  -- total build seconds (sum of the builds when the sender gave only those)
    has_restarts BOOLEAN,  -- whether any job failed and was restarted (jobs_failed not empty)
    failed_jobs BIGINT,  -- number of entries in jobs_failed
    project_id BIGINT,  -- numeric project id, sent by newer senders only
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
