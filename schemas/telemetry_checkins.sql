-- telemetry_checkins
-- One check-in per system and day (the first in landing order); partitioned by the day it was received.
-- Files: under <warehouse>/telemetry_checkins/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE telemetry_checkins (
    system_id VARCHAR,  -- the installation's UUID, lower-case hyphenated whatever the sender's spelling
    first_seen DATE,  -- the first day this system was ever seen (kept across pruning of raw data)
    age_days BIGINT,  -- date - first_seen, in days
    workers_processes BIGINT,  -- online worker processes (NULL when unset)
    workers_hosts BIGINT,  -- hosts running workers (NULL when unset)
    content_apps_processes BIGINT,  -- online content app processes (NULL when unset)
    content_apps_hosts BIGINT,  -- hosts running content apps (NULL when unset)
    postgresql_version BIGINT,  -- PostgreSQL server_version_num (NULL when unset)
    rbac_users BIGINT,  -- users; NULL when the check-in has no rbac_stats, 0 when that field is unset
    rbac_groups BIGINT,  -- groups, as rbac_users
    rbac_domains BIGINT,  -- domains, as rbac_users
    rbac_custom_access_policies BIGINT,  -- custom access policies, as rbac_users
    rbac_custom_roles BIGINT,  -- custom roles, as rbac_users
    components BIGINT,  -- number of installed components
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
