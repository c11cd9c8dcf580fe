-- ci_health_daily
-- Per date, repo, workflow and default branch or not: the run attempts that finished that day (GitHub workflow runs, GitLab pipelines, the collector's pipelines when on), their outcomes, success rate without the cancelled, duration percentiles, and for the default branch the time it spent red and took to turn green; partitioned by date.
-- Files: under <warehouse>/ci_health_daily/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE ci_health_daily (
    repo VARCHAR,  -- owner/name
    workflow VARCHAR,  -- GitHub workflow name, GitLab pipeline name (else pipeline)
    default_branch BOOLEAN,  -- runs of the default branch or of other branches
    runs BIGINT,  -- attempts that finished that day, skipped, neutral, action_required and stale not counted
    succeeded BIGINT,  -- of those, success
    failed BIGINT,  -- of those, failure, timed_out or startup_failure
    cancelled BIGINT,  -- of those, cancelled
    success_rate DOUBLE,  -- succeeded / (runs - cancelled); NULL when that is 0
    duration_p50_s DOUBLE,  -- PERCENTILE_CONT 0.5 of the attempts' duration_s, cancelled included
    duration_p80_s DOUBLE,  -- the same at 0.8
    duration_p95_s DOUBLE,  -- the same at 0.95
    red_seconds DOUBLE,  -- default branch: seconds of the day inside red spells (from a failing run after a green state to the next successful run); NULL for other branches
    time_to_green_p50_s DOUBLE,  -- default branch: median length of the red spells that ended that day; NULL when none did
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
