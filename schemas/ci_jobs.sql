-- ci_jobs
-- One row per source, repo, job_id (one per attempt): GitHub workflow jobs, GitLab jobs, folded from their deliveries by their own times; the collector's jobs (passed) and jobs_failed (failed) with [sources.pipelines] ci_health = true; partitioned by the UTC day the attempt finished, else was created.
-- Files: under <warehouse>/ci_jobs/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE ci_jobs (
    source VARCHAR,  -- github, gitlab or pipelines (the collector)
    repo VARCHAR,  -- owner/name (GitLab's path_with_namespace)
    job_id VARCHAR,  -- the job attempt's id (the collector: <pipeline_id>:jobs[i] or <pipeline_id>:jobs_failed[i])
    run_id VARCHAR,  -- its workflow run or pipeline
    attempt BIGINT,  -- GitHub: the run attempt it belongs to; GitLab: its place among the jobs of that name in the pipeline (a retry is the next); the collector: failed attempts of the name first, in the order sent
    name VARCHAR,  -- job name
    sha VARCHAR,  -- head commit
    conclusion VARCHAR,  -- success, failure, cancelled, skipped, ... (GitLab failed written failure, canceled cancelled); NULL while running
    created_at TIMESTAMP,  -- when the job was queued, UTC
    started_at TIMESTAMP,  -- when a runner started it, UTC
    finished_at TIMESTAMP,  -- when it finished, UTC (the collector's failed attempts without times: when the job's next attempt started, else the pipeline finished)
    run_s DOUBLE,  -- finished_at - started_at (GitLab: build_duration as sent)
    queue_s DOUBLE,  -- started_at - created_at (GitLab: build_queued_duration as sent)
    runner VARCHAR,  -- the runner's name
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
