-- dora_keys_daily
-- The five DORA keys (METRICS.md) per date, repo and window_days (7, 30, 90; repo * pools all repositories), over the window ending that date; partitioned by that date. A rate is its numerator over its denominator, NULL when the denominator is 0.
-- Files: under <warehouse>/dora_keys_daily/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE dora_keys_daily (
    repo VARCHAR,  -- owner/name, or * for all repositories
    window_days BIGINT,  -- 7, 30 or 90: the UTC days date - window_days + 1 to date
    deployments BIGINT,  -- production deployments whose first success is in the window
    deploy_days BIGINT,  -- distinct days with at least one
    lead_time_changes BIGINT,  -- newly deployed commits with a positive lead time (first success - commit time)
    lead_time_p50_seconds DOUBLE,  -- their median (PERCENTILE_CONT)
    lead_time_p90_seconds DOUBLE,  -- their 90th percentile
    merge_lead_time_p50_seconds DOUBLE,  -- median of first success - merged_at over the merged pull/merge requests the deployments shipped
    failed_deployments BIGINT,  -- of the deployments, those with at least one incident attributed, whenever it opened
    change_failure_rate DOUBLE,  -- failed_deployments / deployments
    recovered_incidents BIGINT,  -- attributed incidents resolved in the window
    recovery_p50_seconds DOUBLE,  -- median of resolved_at - the deployment's first success over those (failed deployment recovery time)
    restored_incidents BIGINT,  -- incidents of the repo resolved in the window, attributed or not (repo *: unmapped ones too)
    time_to_restore_p50_seconds DOUBLE,  -- median of resolved_at - opened_at over those
    rework_deployments BIGINT,  -- deployments that are rework: an attributed incident of the repo open at their first success, a redeploy or rollback of an earlier sha, or a revert commit
    rework_rate DOUBLE,  -- rework_deployments / deployments
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
