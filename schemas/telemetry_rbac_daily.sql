-- telemetry_rbac_daily
-- Per day and RBAC metric, over persistent systems with rbac_stats: how many systems have each value.
-- Files: under <warehouse>/telemetry_rbac_daily/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE telemetry_rbac_daily (
    metric VARCHAR,  -- users, groups, domains, custom_access_policies or custom_roles
    value BIGINT,  -- the number the systems reported (an unset field counts 0)
    systems BIGINT,  -- persistent systems reporting that value
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
