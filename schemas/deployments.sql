-- deployments
-- One row per repo, source, deployment_id, folded from its deliveries by their own times; partitioned by the UTC day of the first success, else of creation. DevOps toolkit deploys appear with source devops_events.
-- Files: under <warehouse>/deployments/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE deployments (
    repo VARCHAR,  -- owner/name (GitLab's path_with_namespace)
    source VARCHAR,  -- github, gitlab or devops_events
    deployment_id VARCHAR,  -- the sender's deployment id (a toolkit deploy: its time, RFC 3339)
    environment VARCHAR,  -- environment name as sent
    production BOOLEAN,  -- GitHub production_environment, GitLab environment_tier production, or a name in production_environments
    sha VARCHAR,  -- the commit deployed (NULL for toolkit deploys)
    created_at TIMESTAMP,  -- when the deployment was created (GitLab: its first status), UTC
    first_success_at TIMESTAMP,  -- the first success status, UTC; NULL when it never succeeded (then it is no deployment in the DORA keys)
    final_state VARCHAR,  -- success once any success status exists; else the latest state by payload time (GitLab failed written failure; created when no status came)
    statuses BIGINT,  -- status deliveries folded (distinct)
    history VARCHAR,  -- how its newly deployed commits were found: previous_deployment (pushes followed back to what an earlier production deployment deployed), first_deployment, redeploy (an earlier one's sha), already_deployed (a commit an earlier one deployed), no_push (no push named its sha), push_not_seen, branch_created, toolkit; NULL unless a successful production deployment
    new_commits VARCHAR[],  -- the commits it newly deployed
    lead_times_s DOUBLE[],  -- per newly deployed commit with a time: first_success_at - commit time, seconds (values <= 0 dropped)
    merge_lead_times_s DOUBLE[],  -- per merged pull/merge request whose merge commit is its sha or newly deployed: first_success_at - merged_at, seconds (values <= 0 dropped)
    rework VARCHAR,  -- redeploy (its sha is an earlier production deployment's) or revert (a newly deployed commit's message starts with Revert "); NULL otherwise. Rework by an open incident is counted in dora_keys_daily
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
