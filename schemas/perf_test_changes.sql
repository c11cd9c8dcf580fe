-- perf_test_changes
-- Per commit and test that an earlier commit (landing order, within 30 days) also ran: time and memory against that run.
-- Files: under <warehouse>/perf_test_changes/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE perf_test_changes (
    git_commit VARCHAR,  -- short commit hash
    test_name VARCHAR,  -- test
    previous_commit VARCHAR,  -- the latest earlier commit that ran this test
    execution_time_s DOUBLE,  -- this commit's execution time, seconds
    previous_execution_time_s DOUBLE,  -- the previous commit's execution time, seconds
    execution_time_change_s DOUBLE,  -- execution_time_s - previous_execution_time_s (positive: slower)
    memory_rss_bytes BIGINT,  -- this commit's RSS after the test
    previous_memory_rss_bytes BIGINT,  -- the previous commit's RSS after the test
    memory_change_bytes BIGINT,  -- memory_rss_bytes - previous_memory_rss_bytes (positive: heavier)
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
