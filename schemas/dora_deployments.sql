-- dora_deployments
-- One row per deploy event, partitioned by the UTC day of deploy_time, with its lead time for changes.
-- Files: under <warehouse>/dora_deployments/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE dora_deployments (
    repo VARCHAR,  -- repository (ALL as sent)
    deploy_time TIMESTAMP,  -- when the deploy happened, UTC
    commits BIGINT,  -- commit ids the deploy's metadata names (0 when none or not JSON)
    commits_matched BIGINT,  -- of those, commits with a push of the same repo at or before the deploy (within 90 days)
    lead_time_seconds DOUBLE,  -- median over the matched commits of deploy_time - time of the latest such push; NULL when none matched
    commits_known BIGINT,  -- of the named commits, those the commits source knows (same project as the repo; short and full hashes matched by prefix, at least 7 characters), authored at or before the deploy within 90 days
    commit_lead_time_seconds DOUBLE,  -- median over the known commits of deploy_time - authored_at (the Four Keys rule); NULL when none is known
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
