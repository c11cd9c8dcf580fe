-- incidents
-- One row per source, incident_id (GitHub issues labelled incident, GitLab incidents, PagerDuty incidents), folded from its deliveries by their own times; partitioned by the UTC day it opened.
-- Files: under <warehouse>/incidents/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE incidents (
    source VARCHAR,  -- github, gitlab or pagerduty
    incident_id VARCHAR,  -- the issue's or incident's id
    repo VARCHAR,  -- owner/name; for PagerDuty by the services setting, NULL when its service is not mapped
    service VARCHAR,  -- the PagerDuty service id (NULL otherwise)
    title VARCHAR,  -- the issue's or incident's title
    opened_at TIMESTAMP,  -- its own creation time, UTC (an issue labelled later is still opened when it was created)
    resolved_at TIMESTAMP,  -- its last resolution (closed, incident.resolved), UTC; NULL while open
    reopened BOOLEAN,  -- whether it was reopened
    root_cause_sha VARCHAR,  -- the sha a 'root cause: <sha>' line of its body names (at least 7 hex characters)
    deployment_source VARCHAR,  -- source of the deployment it is attributed to
    deployment_id VARCHAR,  -- the production deployment it is attributed to (NULL when none)
    deployed_at TIMESTAMP,  -- that deployment's first success, UTC
    attribution VARCHAR,  -- root_cause (the deployment shipped the root cause), last_deployment (the repo's last production deployment before it opened, within attribution_window_days), or NULL
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
