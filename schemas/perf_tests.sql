-- perf_tests
-- One row per commit and test: resource and trace figures joined; partitioned by the day the commit's first message landed.
-- Files: under <warehouse>/perf_tests/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE perf_tests (
    git_commit VARCHAR,  -- short commit hash
    test_name VARCHAR,  -- test
    execution_time_s DOUBLE,  -- execution time in seconds (NULL without a resource figure)
    memory_rss_bytes BIGINT,  -- process RSS after the test (NULL without a resource figure)
    function_calls BIGINT,  -- function calls (NULL without a trace figure)
    statements_executed BIGINT,  -- statements executed (NULL without a trace figure)
    iterations BIGINT,  -- loop iterations (NULL without a trace figure)
    condition_encoding BIGINT,  -- condition encoding value (NULL without a trace figure)
    passed BOOLEAN,  -- trace result 0; NULL without a trace figure
    commit_seq BIGINT,  -- the commit's place in landing order
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
