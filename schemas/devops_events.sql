-- devops_events
-- One row per DevOps event (exact duplicates once); partitioned by the UTC day of time.
-- Files: under <warehouse>/devops_events/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE devops_events (
    time TIMESTAMP,  -- when the event happened, UTC; when the sender left Time out, the object's landing time (its last-modified time, or the start of its dt= day if modified on another day)
    repo VARCHAR,  -- repository, or ALL for events not tied to one
    event VARCHAR,  -- push, deploy, test_pass or test_run
    metadata VARCHAR,  -- the Metadata string as sent (NULL when absent)
    commit_ids VARCHAR[],  -- commits the metadata names: a push's commit_id, a deploy's commit_ids
    time_from_landing BOOLEAN,  -- whether time is the object's landing time because the sender left Time out
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
