-- perf_samples
-- One row per test of a resource or trace message (redelivered messages once); partitioned by the day the commit's first message landed.
-- Files: under <warehouse>/perf_samples/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE perf_samples (
    git_commit VARCHAR,  -- short commit hash as sent
    test_name VARCHAR,  -- test
    kind VARCHAR,  -- resource or trace
    execution_time_s DOUBLE,  -- resource: execution time in seconds
    memory_rss_bytes BIGINT,  -- resource: process RSS after the test, bytes
    function_calls BIGINT,  -- trace: function calls
    statements_executed BIGINT,  -- trace: statements executed
    iterations BIGINT,  -- trace: loop iterations
    condition_encoding BIGINT,  -- trace: condition encoding value
    result BIGINT,  -- trace: 0 passed, 1 raised
    sender_key BIGINT,  -- the message's _key (a counter per sending process, not unique)
    message_seq BIGINT,  -- the message's place in landing order, across all history
    commit_seq BIGINT,  -- message_seq of the commit's first message: orders commits as they landed
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
