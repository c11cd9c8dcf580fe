-- ci_runs
-- One row per source, repo, run_id, attempt: GitHub workflow runs, GitLab pipelines (a retry after a failure is a new attempt), folded from their deliveries by their own times; the collector's pipelines with [sources.pipelines] ci_health = true (one attempt each); partitioned by the UTC day the attempt finished, else was created.
-- Files: under <warehouse>/ci_runs/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE ci_runs (
    source VARCHAR,  -- github, gitlab or pipelines (the collector)
    repo VARCHAR,  -- owner/name (GitLab's path_with_namespace)
    run_id VARCHAR,  -- workflow run id, pipeline id
    attempt BIGINT,  -- GitHub run_attempt; GitLab: 1, then one more for each run after a finished one
    workflow VARCHAR,  -- GitHub workflow name; GitLab pipeline name (else pipeline); the collector: pipeline
    branch VARCHAR,  -- head branch or ref
    default_branch BOOLEAN,  -- the branch is the repository's default branch
    sha VARCHAR,  -- head commit
    conclusion VARCHAR,  -- success, failure, cancelled, skipped, timed_out, startup_failure, action_required, neutral or stale (GitLab failed written failure, canceled cancelled); NULL while running
    created_at TIMESTAMP,  -- when the run was created (a re-run keeps it), UTC
    started_at TIMESTAMP,  -- when this attempt started, UTC (GitLab: finished - duration; the collector: created_at)
    finished_at TIMESTAMP,  -- when this attempt finished, UTC (GitHub: updated_at of the completed run; the collector: created_at + duration, NULL past a day)
    duration_s DOUBLE,  -- finished_at - started_at (GitLab and the collector: duration as sent)
    queue_s DOUBLE,  -- first attempts: started_at - created_at (GitLab: queued_duration as sent); NULL for re-runs (created_at is the first attempt's)
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
