-- change_events
-- One row per distinct push or pull/merge request delivery (GitHub, GitLab); partitioned by the UTC day of occurred_at.
-- Files: under <warehouse>/change_events/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE change_events (
    source VARCHAR,  -- github, gitlab or pagerduty
    kind VARCHAR,  -- GitHub's X-GitHub-Event, GitLab's object_kind (build for a job), PagerDuty's event_type
    delivery_id VARCHAR,  -- X-GitHub-Delivery, GitLab's Idempotency-Key or event UUID, PagerDuty's event id (NULL for bare bodies)
    content_key VARCHAR,  -- the event's identity and state per kind: what makes a redelivery without a delivery id, or a REST backfill, the same event
    repo VARCHAR,  -- owner/name (GitLab's path_with_namespace); NULL for PagerDuty, whose services map to repositories by configuration
    occurred_at TIMESTAMP,  -- the event's own time, UTC (offsets applied), which folds order by; only for a body that carries none (GitLab deployment hooks before status_changed_at) the relay's received_at, else the object's landing time
    received_at TIMESTAMP,  -- when the relay received it (envelopes only)
    payload VARCHAR,  -- the webhook body as JSON
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
